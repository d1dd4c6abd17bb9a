// The C interface of include/CSimdJSON.h over simdjson's DOM API.
#include "CSimdJSON.h"

#include <cstring>
#include <new>
#include <simdjson.h>

using simdjson::dom::element;
using simdjson::dom::element_type;

static_assert(sizeof(element) == sizeof(sj_element), "simdjson::dom::element must fit sj_element");
static_assert(std::is_trivially_copyable<element>::value, "simdjson::dom::element must be trivially copyable");

struct sj_parser {
    simdjson::dom::parser parser;
    explicit sj_parser(size_t max_depth) {
        (void)parser.allocate(64 * 1024, max_depth);
    }
};

static inline element unwrap(sj_element e) {
    element out;
    std::memcpy(static_cast<void *>(&out), &e, sizeof(out));
    return out;
}

static inline sj_element wrap(element e) {
    sj_element out;
    std::memcpy(&out, static_cast<const void *>(&e), sizeof(out));
    return out;
}

extern "C" {

sj_parser *sj_parser_new(size_t max_depth) {
    return new (std::nothrow) sj_parser(max_depth);
}

void sj_parser_free(sj_parser *parser) { delete parser; }

int sj_parse(sj_parser *parser, const uint8_t *bytes, size_t len, sj_element *root) {
    // A larger document grows the parser's buffers, keeping its depth limit.
    if (len > parser->parser.capacity() && parser->parser.allocate(len, parser->parser.max_depth()) != simdjson::SUCCESS) {
        return simdjson::MEMALLOC;
    }
    auto result = parser->parser.parse(bytes, len, true);
    if (result.error()) { return static_cast<int>(result.error()); }
    *root = wrap(result.value_unsafe());
    return 0;
}

sj_type_t sj_type(sj_element e) {
    switch (unwrap(e).type()) {
    case element_type::ARRAY: return SJ_ARRAY;
    case element_type::OBJECT: return SJ_OBJECT;
    case element_type::INT64: return SJ_INT64;
    case element_type::UINT64: return SJ_UINT64;
    case element_type::DOUBLE: return SJ_DOUBLE;
    case element_type::STRING: return SJ_STRING;
    case element_type::BOOL: return SJ_BOOL;
    default: return SJ_NULL;
    }
}

int64_t sj_int64(sj_element e) { return unwrap(e).get_int64().value_unsafe(); }
uint64_t sj_uint64(sj_element e) { return unwrap(e).get_uint64().value_unsafe(); }
double sj_double(sj_element e) {
    auto el = unwrap(e);
    switch (el.type()) {
    case element_type::INT64: return static_cast<double>(el.get_int64().value_unsafe());
    case element_type::UINT64: return static_cast<double>(el.get_uint64().value_unsafe());
    default: return el.get_double().value_unsafe();
    }
}

const char *sj_string(sj_element e, size_t *length) {
    std::string_view view = unwrap(e).get_string().value_unsafe();
    *length = view.size();
    return view.data();
}

int sj_object_find_last(sj_element object, const char *key, size_t key_length, sj_element *value) {
    int found = 0;
    std::string_view wanted(key, key_length);
    for (auto field : unwrap(object).get_object().value_unsafe()) {
        if (field.key == wanted) {
            *value = wrap(field.value);
            found = 1;
        }
    }
    return found;
}

size_t sj_array_elements(sj_element array, sj_element *out, size_t capacity) {
    size_t count = 0;
    for (auto item : unwrap(array).get_array().value_unsafe()) {
        if (count < capacity) { out[count] = wrap(item); }
        count++;
    }
    return count;
}

}
