// sj_read_run_result: an executor run result read straight from simdjson's tape. Each object is walked
// once and its members matched on their bytes against the few names the decoder reads; the generic look-up
// (sj_object_find_last through Swift) cost about 14,000 instructions a 5-task run, this 4,800 (callgrind).
// Anything unusual answers 0 and the caller takes the member-by-member path, which knows every error.
// The member names and the schema's name are the contract's (section 2.1), spelled here a second time
// beside WireFormat's InputField because C++ cannot read Swift's constants: should they drift, the
// reader would answer 0 for every run result, which WireFormatTests.FastPathEquivalenceTests catches
// (it requires the reader to take plain run results).
#include "Parser.hpp"

#include <cmath>
#include <string_view>

namespace {

using simdjson::dom::object;

/// The index of `key` in `names`, or -1. The length settles almost every comparison.
template <size_t N> int member_index(std::string_view key, const std::string_view (&names)[N]) {
    for (size_t i = 0; i < N; i++) {
        if (names[i].size() == key.size() && std::memcmp(names[i].data(), key.data(), key.size()) == 0) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

/// Records that member `index` was met; false when it was met before (a repeated member: the generic path
/// keeps the last, as Python's json does, and this reader leaves such documents to it).
inline bool first_sight(uint32_t &seen, int index) {
    uint32_t bit = uint32_t(1) << index;
    if (seen & bit) { return false; }
    seen |= bit;
    return true;
}

inline bool is_null(element value) { return value.type() == element_type::NULL_VALUE; }

inline bool read_text(element value, sj_text &out) {
    if (value.type() != element_type::STRING) { return false; }
    std::string_view view = value.get_string().value_unsafe();
    out = sj_text{view.data(), view.size()};
    return true;
}

/// An optional string: absent or null leaves `out` empty.
inline bool read_optional_text(element value, sj_text &out) {
    if (is_null(value)) {
        out = sj_text{nullptr, 0};
        return true;
    }
    return read_text(value, out);
}

/// An integer member: only a JSON integer that fits in 64 bits (`3.0` and larger numbers go the long way).
inline bool read_int(element value, int64_t &out) {
    if (value.type() != element_type::INT64) { return false; }
    out = value.get_int64().value_unsafe();
    return true;
}

/// A number member, as a finite double; -0 reads as 0.
inline bool read_number(element value, double &out) {
    double number;
    switch (value.type()) {
    case element_type::INT64: number = static_cast<double>(value.get_int64().value_unsafe()); break;
    case element_type::UINT64: number = static_cast<double>(value.get_uint64().value_unsafe()); break;
    case element_type::DOUBLE: number = value.get_double().value_unsafe(); break;
    default: return false;
    }
    if (!std::isfinite(number)) { return false; }
    out = number == 0 ? 0 : number;
    return true;
}

constexpr std::string_view statistics_names[] = {
    "total_tasks", "completed_tasks", "succeeded_tasks", "failed_tasks", "timeout_tasks", "cancelled_tasks",
    "error_tasks", "total_tokens", "total_retries", "success_rate", "total_execution_time", "avg_execution_time",
    "total_cost",
};
/// Every statistic but `completed_tasks` is required.
constexpr uint32_t required_statistics = 0x1FFF & ~uint32_t(1 << 1);

bool read_statistics(element value, sj_run_result &out) {
    if (value.type() != element_type::OBJECT) { return false; }
    int64_t *integers[] = {
        &out.total_tasks, &out.completed_tasks, &out.succeeded_tasks, &out.failed_tasks, &out.timeout_tasks,
        &out.cancelled_tasks, &out.error_tasks, &out.total_tokens, &out.total_retries,
    };
    double *numbers[] = {&out.success_rate, &out.total_execution_time, &out.avg_execution_time, &out.total_cost};
    uint32_t seen = 0;
    out.has_completed_tasks = false;
    for (auto field : value.get_object().value_unsafe()) {
        int index = member_index(field.key, statistics_names);
        if (index < 0) { continue; }
        if (!first_sight(seen, index)) { return false; }
        if (index == 1) {
            // Optional: null means absent.
            out.has_completed_tasks = !is_null(field.value);
            if (!out.has_completed_tasks) { continue; }
        }
        bool ok = index < 9 ? read_int(field.value, *integers[index]) : read_number(field.value, *numbers[index - 9]);
        if (!ok) { return false; }
    }
    return (seen & required_statistics) == required_statistics;
}

constexpr std::string_view task_names[] = {
    "task_id", "task_status", "execution_time", "error_message", "attempt_count", "test_result",
};
constexpr uint32_t required_task_members = 0x7;

bool read_task(element value, sj_task &task) {
    if (value.type() != element_type::OBJECT) { return false; }
    task.error_message = sj_text{nullptr, 0};
    task.has_attempt_count = false;
    uint32_t seen = 0;
    for (auto field : value.get_object().value_unsafe()) {
        int index = member_index(field.key, task_names);
        if (index < 0) { continue; }
        if (!first_sight(seen, index)) { return false; }
        bool ok;
        switch (index) {
        case 0: ok = read_text(field.value, task.task_id); break;
        case 1: ok = read_text(field.value, task.task_status); break;
        case 2: ok = read_number(field.value, task.execution_time); break;
        case 3: ok = read_optional_text(field.value, task.error_message); break;
        case 4:
            task.has_attempt_count = !is_null(field.value);
            ok = !task.has_attempt_count || read_int(field.value, task.attempt_count);
            break;
        default: ok = is_null(field.value) || field.value.type() == element_type::OBJECT; break;
        }
        if (!ok) { return false; }
    }
    return (seen & required_task_members) == required_task_members;
}

bool read_tasks(sj_parser *parser, element value, sj_run_result &out) {
    if (value.type() != element_type::ARRAY) { return false; }
    auto &tasks = parser->tasks;
    tasks.clear();
    for (auto item : value.get_array().value_unsafe()) {
        tasks.emplace_back();
        if (!read_task(item, tasks.back())) { return false; }
    }
    out.tasks = tasks.data();
    out.task_count = tasks.size();
    return true;
}

constexpr std::string_view issue_names[] = {"severity", "type", "description"};

bool read_issues(sj_parser *parser, element value) {
    if (is_null(value)) { return true; }
    if (value.type() != element_type::ARRAY) { return false; }
    auto &issues = parser->issues;
    for (auto item : value.get_array().value_unsafe()) {
        if (item.type() != element_type::OBJECT) { return false; }
        issues.emplace_back();
        sj_issue &issue = issues.back();
        sj_text *texts[] = {&issue.severity, &issue.type, &issue.description};
        uint32_t seen = 0;
        for (auto field : item.get_object().value_unsafe()) {
            int index = member_index(field.key, issue_names);
            if (index < 0) { continue; }
            if (!first_sight(seen, index) || !read_text(field.value, *texts[index])) { return false; }
        }
        if (seen != 0x7) { return false; }
    }
    return true;
}

constexpr std::string_view analysis_names[] = {
    "prompt_id", "overall_score", "clarity_score", "efficiency_score", "issues",
};
constexpr uint32_t required_analysis_members = 0xE;

bool read_analysis(sj_parser *parser, element value, sj_run_result &out) {
    parser->issues.clear();
    out.prompt_id = sj_text{nullptr, 0};
    if (is_null(value)) { return true; }
    if (value.type() != element_type::OBJECT) { return false; }
    out.has_analysis = true;
    uint32_t seen = 0;
    for (auto field : value.get_object().value_unsafe()) {
        int index = member_index(field.key, analysis_names);
        if (index < 0) { continue; }
        if (!first_sight(seen, index)) { return false; }
        bool ok;
        switch (index) {
        case 0: ok = read_optional_text(field.value, out.prompt_id); break;
        case 1: ok = read_number(field.value, out.overall_score); break;
        case 2: ok = read_number(field.value, out.clarity_score); break;
        case 3: ok = read_number(field.value, out.efficiency_score); break;
        default: ok = read_issues(parser, field.value); break;
        }
        if (!ok) { return false; }
    }
    out.issues = parser->issues.data();
    out.issue_count = parser->issues.size();
    return (seen & required_analysis_members) == required_analysis_members;
}

/// `metadata` must be an object when present; its `variant` counts only as a string.
bool read_metadata(element value, sj_run_result &out) {
    if (is_null(value)) { return true; }
    if (value.type() != element_type::OBJECT) { return false; }
    bool seen = false;
    for (auto field : value.get_object().value_unsafe()) {
        if (field.key != "variant") { continue; }
        if (seen) { return false; }
        seen = true;
        if (field.value.type() == element_type::STRING) { read_text(field.value, out.variant); }
    }
    return true;
}

constexpr std::string_view run_names[] = {
    "schema", "run_id", "workflow_id", "started_at", "finished_at", "total_duration", "metadata", "statistics",
    "task_results", "prompt_analysis",
};
/// run_id, workflow_id, started_at, finished_at, statistics and task_results.
constexpr uint32_t required_run_members = 0x19E;

bool read_run_member(sj_parser *parser, int index, element value, sj_run_result &out) {
    double ignored;
    sj_text schema;
    switch (index) {
    // The schema, when named, must be this one (anything else, null included, goes the long way).
    case 0: return read_text(value, schema) && std::string_view(schema.bytes, schema.length) == "executor.run_result/v1";
    case 1: return read_text(value, out.run_id);
    case 2: return read_text(value, out.workflow_id);
    case 3: return read_text(value, out.started_at);
    case 4: return read_text(value, out.finished_at);
    case 5: return is_null(value) || read_number(value, ignored);
    case 6: return read_metadata(value, out);
    case 7: return read_statistics(value, out);
    case 8: return read_tasks(parser, value, out);
    default: return read_analysis(parser, value, out);
    }
}

} // namespace

extern "C" int sj_read_run_result(sj_parser *parser, sj_element root, sj_run_result *out) {
    element document = unwrap(root);
    if (document.type() != element_type::OBJECT) { return 0; }
    *out = sj_run_result{};
    uint32_t seen = 0;
    for (auto field : document.get_object().value_unsafe()) {
        int index = member_index(field.key, run_names);
        if (index < 0) { continue; }
        if (!first_sight(seen, index) || !read_run_member(parser, index, field.value, *out)) { return 0; }
    }
    return (seen & required_run_members) == required_run_members ? 1 : 0;
}
