// The C interface of include/CSimdJSON.h over simdjson's DOM API.
#include "Parser.hpp"

#include <new>

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
    for (auto &index : parser->recent) { index.valid = false; }
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

int sj_object_find_last(sj_parser *parser, sj_element object, const char *key, size_t key_length, sj_element *value) {
    const auto &members = parser->index_of(object).members;
    // The last member with the key wins, as in Python's json: scan from the end.
    for (auto member = members.rbegin(); member != members.rend(); ++member) {
        // Length and first byte settle almost every comparison without a call to memcmp.
        if (member->key_length == key_length
            && (key_length == 0 || (member->key[0] == key[0] && std::memcmp(member->key, key, key_length) == 0))) {
            *value = wrap(member->value);
            return 1;
        }
    }
    return 0;
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
