// The parser behind include/CSimdJSON.h, shared by the files that implement it.
#ifndef OPTIMIZER_DECIDER_CSIMDJSON_PARSER_HPP
#define OPTIMIZER_DECIDER_CSIMDJSON_PARSER_HPP
#include "CSimdJSON.h"

#include <cstring>
#include <simdjson.h>
#include <vector>

using simdjson::dom::element;
using simdjson::dom::element_type;

static_assert(sizeof(element) == sizeof(sj_element), "simdjson::dom::element must fit sj_element");
static_assert(std::is_trivially_copyable<element>::value, "simdjson::dom::element must be trivially copyable");

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

/// One member of an indexed object: its key's bytes and its value.
struct member_entry {
    const char *key;
    size_t key_length;
    element value;
};

/// The members of one object, read once so that the decoder's several look-ups in the same object
/// (a task's six fields, the statistics' thirteen) scan a small array instead of the tape each time.
struct object_index {
    sj_element object{};
    bool valid = false;
    std::vector<member_entry> members;
};

struct sj_parser {
    simdjson::dom::parser parser;
    /// The two objects looked up most recently (the message and the object being read inside it),
    /// valid for the current document only: every parse clears them.
    object_index recent[2];
    int last_used = 0;
    /// The tasks and issues of the run result read last (`sj_read_run_result`), reused from parse to parse.
    std::vector<sj_task> tasks;
    std::vector<sj_issue> issues;

    explicit sj_parser(size_t max_depth) {
        (void)parser.allocate(64 * 1024, max_depth);
        for (auto &index : recent) { index.members.reserve(32); }
    }

    const object_index &index_of(sj_element object) {
        for (int slot = 0; slot < 2; slot++) {
            // Word by word: a 16-byte compare of an element the caller just stored stalls store forwarding.
            const sj_element &known = recent[slot].object;
            if (recent[slot].valid && known.opaque[0] == object.opaque[0] && known.opaque[1] == object.opaque[1]) {
                last_used = slot;
                return recent[slot];
            }
        }
        last_used = 1 - last_used;
        object_index &index = recent[last_used];
        index.object = object;
        index.valid = true;
        index.members.clear();
        for (auto field : unwrap(object).get_object().value_unsafe()) {
            index.members.push_back(member_entry{field.key.data(), field.key.size(), field.value});
        }
        return index;
    }
};

#endif
