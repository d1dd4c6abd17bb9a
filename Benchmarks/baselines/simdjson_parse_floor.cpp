// How much simdjson's two APIs cost to validate a whole executor run result: the floor under any decoder
// that, as the contract asks, rejects a message that is not JSON anywhere in it. Shares no code with the
// project. Builds the benchmarks' 5-task (or T-task) run result, then parses it N times, either with the
// DOM API (`dom`: both stages, the whole document validated into a tape) or with the On-Demand API
// (`ondemand`: every value visited and read, since On-Demand validates only what it reads). Run under
// callgrind at two N's; the difference over the difference in N is the instructions of one parse.
//
//   c++ -O2 -std=c++17 -mavx2 -mbmi -mpclmul -mlzcnt -o .build/baselines/simdjson_parse_floor \
//       Benchmarks/baselines/simdjson_parse_floor.cpp -lsimdjson
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null .build/baselines/simdjson_parse_floor dom 1000 5
//
// The AVX2 flags give On-Demand (compiled here, from the header) the same kernel the DOM parser picks at run
// time in the library on this machine (haswell or later); without them On-Demand falls back to scalar code.
#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace simdjson;

namespace {

/// The shortest of %.15g to %.17g that reads back to `value`, as the benchmarks' JSON writer spells numbers.
std::string shortest(double value) {
    char text[32];
    for (int digits = 15; digits <= 17; digits++) {
        std::snprintf(text, sizeof text, "%.*g", digits, value);
        if (std::strtod(text, nullptr) == value) { break; }
    }
    return text;
}

/// The benchmarks' run result (Benchmarks/BenchmarkSupport/Corpus.swift): all tasks succeeded but one each
/// failed, timed out and errored with an LLM error message, every task with a `test_result`.
std::string run_result(int tasks) {
    int succeeded = tasks - 3;
    char number[64];
    std::string out = "{\"run_id\":\"run-1234\",\"workflow_id\":\"wf-34\",\"started_at\":\"2025-11-19T10:00:00Z\","
                      "\"finished_at\":\"2025-11-19T10:01:02.500Z\",\"total_duration\":62.5,\"statistics\":{";
    std::snprintf(number, sizeof number, "\"total_tasks\":%d,\"completed_tasks\":%d,\"succeeded_tasks\":%d,", tasks,
                  tasks, succeeded);
    out += number;
    out += "\"failed_tasks\":1,\"timeout_tasks\":1,\"cancelled_tasks\":0,\"error_tasks\":1,\"total_tokens\":8400,"
           "\"total_retries\":2,";
    out += "\"success_rate\":" + shortest(double(succeeded) / tasks) + ",";
    out += "\"total_execution_time\":64.6,\"avg_execution_time\":3.23,\"total_cost\":0.084},\"task_results\":[";
    const char *failures[] = {"failed", "timeout", "error"};
    for (int task = 0; task < tasks; task++) {
        const char *status = task < succeeded ? "succeeded" : failures[task - succeeded];
        std::snprintf(number, sizeof number, "%s{\"task_id\":\"task-%d-of-run-1234\",", task ? "," : "", task);
        out += number;
        out += std::string("\"task_status\":\"") + status + "\",";
        out += "\"execution_time\":" + shortest(1.2 + task * 0.137) + ",";
        out += task < succeeded ? "\"error_message\":null,"
                                : "\"error_message\":\"Rate limit exceeded (429) while calling the model\",";
        out += std::string("\"attempt_count\":1,\"test_result\":{\"tokens_used\":420,\"cost\":0.0042,\"passed\":") +
               (task < succeeded ? "true" : "false") + "}}";
    }
    return out + "]}";
}

int64_t sink = 0;

/// Visits and reads every value, which is what On-Demand needs to have validated the whole document.
error_code visit(ondemand::value value) {
    ondemand::json_type type;
    if (auto error = value.type().get(type)) { return error; }
    switch (type) {
    case ondemand::json_type::object: {
        ondemand::object object;
        if (auto error = value.get_object().get(object)) { return error; }
        for (auto field : object) {
            std::string_view key;
            ondemand::value member;
            if (auto error = field.unescaped_key().get(key)) { return error; }
            if (auto error = field.value().get(member)) { return error; }
            if (auto error = visit(member)) { return error; }
            sink += key.size();
        }
        return SUCCESS;
    }
    case ondemand::json_type::array: {
        ondemand::array array;
        if (auto error = value.get_array().get(array)) { return error; }
        for (auto item : array) {
            ondemand::value element;
            if (auto error = item.get(element)) { return error; }
            if (auto error = visit(element)) { return error; }
        }
        return SUCCESS;
    }
    case ondemand::json_type::number: {
        double number;
        auto error = value.get_double().get(number);
        sink += static_cast<int64_t>(number);
        return error;
    }
    case ondemand::json_type::string: {
        std::string_view text;
        auto error = value.get_string().get(text);
        sink += text.size();
        return error;
    }
    case ondemand::json_type::boolean: {
        bool flag;
        auto error = value.get_bool().get(flag);
        sink += flag;
        return error;
    }
    case ondemand::json_type::null: return value.is_null() ? SUCCESS : INCORRECT_TYPE;
    }
    return INCORRECT_TYPE;
}

} // namespace

int main(int argc, char **argv) {
    if (argc != 4 || (std::strcmp(argv[1], "dom") != 0 && std::strcmp(argv[1], "ondemand") != 0)) {
        std::fprintf(stderr, "usage: %s dom|ondemand PARSES TASKS\n", argv[0]);
        return 2;
    }
    bool dom = std::strcmp(argv[1], "dom") == 0;
    long parses = std::atol(argv[2]);
    int tasks = std::atoi(argv[3]);
    if (parses <= 0 || tasks < 4) {
        std::fprintf(stderr, "PARSES must be positive and TASKS at least 4\n");
        return 2;
    }
    padded_string json(run_result(tasks));
    dom::parser dom_parser;
    ondemand::parser ondemand_parser;
    for (long parse = 0; parse < parses; parse++) {
        if (dom) {
            dom::element root;
            if (auto error = dom_parser.parse(json).get(root)) {
                std::fprintf(stderr, "dom: %s\n", error_message(error));
                return 1;
            }
            sink += root.type() == dom::element_type::OBJECT;
        } else {
            ondemand::document document;
            ondemand::value root;
            error_code error = ondemand_parser.iterate(json).get(document);
            if (!error) { error = document.get_value().get(root); }
            if (!error) { error = visit(root); }
            // Nothing may follow the root (simdjson 3.0.1's document has no `at_end`: past the end there is
            // no current location).
            if (!error && !document.current_location().error()) { error = TRAILING_CONTENT; }
            if (error) {
                std::fprintf(stderr, "ondemand: %s\n", error_message(error));
                return 1;
            }
        }
    }
    std::printf("%s: %ld parses of %zu bytes (checksum %lld)\n", argv[1], parses, json.size(),
                static_cast<long long>(sink));
    return 0;
}
