/*
 * The benchmark's native decider: the job of `optimizer-decider run` for executor run results, written
 * plainly in C++ on simdjson's On-Demand API and librdkafka's C API, one thread, sharing no code with
 * optimizer-decider. It is the measured answer to "what does deciding cost natively on this machine".
 *
 * Per message: the payload copied once into a reused padded buffer, parsed with On-Demand (one pass over
 * the members, keys compared as they are read); the contract's validation of an executor run result
 * (types, ranges, the counts' consistency, the success rate against succeeded / completed, RFC 3339
 * timestamps; not the service's bounds on a message's size and on counts); the report (percentiles, error classification by the default patterns); the reasons of the
 * default rules with their sentences; the strategy; per-partition history (the last 20 runs of each
 * workflow) and its regressions after 5; deduplication by the decision id (SHA-256 of the same pieces the
 * service hashes, so both give the same ids for the same runs); one decision JSON with the service's
 * members (variants: none, written as null) to the same partition of the output; a bad message to the
 * dead-letter topic with its error; an input offset stored once its output is delivered (duplicates at
 * once). It exits after `count` inputs are handled and their outputs delivered.
 *
 * Not tuned on purpose beyond the obvious: a reused parser and output buffer; no threads of its own.
 *
 * usage: native_decider <bootstrap> <input> <output> <dlq> <group> <count>
 * build: c++ -O2 -march=native -std=c++17 native_decider.cpp -lrdkafka -lsimdjson -lcrypto
 */
#include <librdkafka/rdkafka.h>
#include <openssl/sha.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

using namespace simdjson;

namespace {

volatile std::sig_atomic_t stopping = 0;
long handled = 0;
rd_kafka_t *consumer;
const char *input_topic;

[[noreturn]] void die(const char *what, const char *why) {
    std::fprintf(stderr, "native_decider: %s: %s\n", what, why);
    std::exit(1);
}

void set(rd_kafka_conf_t *conf, const char *key, const char *value) {
    char error[512];
    if (rd_kafka_conf_set(conf, key, value, error, sizeof error) != RD_KAFKA_CONF_OK) die(key, error);
}

void store_offset(int32_t partition, int64_t offset) {
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, input_topic, partition)->offset = offset + 1;
    rd_kafka_offsets_store(consumer, list);
    rd_kafka_topic_partition_list_destroy(list);
}

/* The input's partition and offset ride along as the output's opaque: partition in the top 16 bits. */
void *input_position(const rd_kafka_message_t *input) {
    return (void *)(intptr_t)(((int64_t)input->partition << 48) | input->offset);
}

/* Runs on the producer's poll. */
void on_delivery(rd_kafka_t *, const rd_kafka_message_t *message, void *) {
    if (message->err) die("delivery", rd_kafka_err2str(message->err));
    int64_t position = (int64_t)(intptr_t)message->_private;
    store_offset(int32_t(position >> 48), position & ((1LL << 48) - 1));
    handled++;
}

// MARK: The decoded run

struct Task {
    std::string_view status;
    double execution_time = -1;
    bool has_error_message = false;
    std::string_view error_message;
};

struct Run {
    std::string run_id, workflow_id, finished_at;
    long long total_tasks = -1, completed_tasks = -1, succeeded = -1, failed = -1, timeout = -1, cancelled = -1,
              error = -1, total_tokens = -1, total_retries = -1;
    double success_rate = -1, total_execution_time = -1, avg_execution_time = -1, total_cost = -1;
    std::vector<Task> tasks;
    std::vector<std::string> error_messages;  // owned copies: the parser's string buffer is reused
    bool has_analysis = false;
    std::string prompt_id;
    bool has_prompt_id = false;
    double overall = -1, clarity = -1, efficiency = -1;
    long long critical_issues = 0, issue_count = 0;
};

struct Rejection {
    std::string reason, message;
};

bool rfc3339(std::string_view t) {
    auto digits = [&](size_t at, size_t n) {
        if (t.size() < at + n) return false;
        for (size_t i = at; i < at + n; i++)
            if (t[i] < '0' || t[i] > '9') return false;
        return true;
    };
    if (!digits(0, 4) || t.size() < 20 || t[4] != '-' || !digits(5, 2) || t[7] != '-' || !digits(8, 2) ||
        (t[10] != 'T' && t[10] != 't') || !digits(11, 2) || t[13] != ':' || !digits(14, 2) || t[16] != ':' ||
        !digits(17, 2))
        return false;
    size_t i = 19;
    if (i < t.size() && t[i] == '.') {
        size_t start = ++i;
        while (i < t.size() && t[i] >= '0' && t[i] <= '9') i++;
        if (i == start) return false;
    }
    if (i < t.size() && (t[i] == 'Z' || t[i] == 'z')) return i + 1 == t.size();
    return i + 6 == t.size() && (t[i] == '+' || t[i] == '-') && digits(i + 1, 2) && t[i + 3] == ':' &&
           digits(i + 4, 2);
}

// Reads `v` as a non-negative integer into `out`; false (with `why`) when it is not one.
bool count(ondemand::value v, long long &out, std::string_view name, Rejection &why) {
    int64_t n;
    if (v.get_int64().get(n) || n < 0) {
        why = {"invalid_value", std::string(name) + " must be a non-negative integer"};
        return false;
    }
    out = n;
    return true;
}

bool number(ondemand::value v, double &out, std::string_view name, Rejection &why) {
    double d;
    if (v.get_double().get(d) || d < 0) {
        why = {"invalid_value", std::string(name) + " must be a non-negative number"};
        return false;
    }
    out = d;
    return true;
}

bool text(ondemand::value v, std::string &out, std::string_view name, Rejection &why) {
    std::string_view s;
    if (v.get_string().get(s) || s.empty()) {
        why = {"wrong_type", std::string(name) + " must be a non-empty string"};
        return false;
    }
    out.assign(s);
    return true;
}

bool decode_statistics(ondemand::object statistics, Run &run, Rejection &why) {
    for (auto field : statistics) {
        std::string_view key;
        ondemand::value v;
        if (field.unescaped_key().get(key) || field.value().get(v)) return why = {"malformed_json", "bad statistics"}, false;
        bool ok = true;
        if (key == "total_tasks") ok = count(v, run.total_tasks, "statistics.total_tasks", why);
        else if (key == "completed_tasks") ok = count(v, run.completed_tasks, "statistics.completed_tasks", why);
        else if (key == "succeeded_tasks") ok = count(v, run.succeeded, "statistics.succeeded_tasks", why);
        else if (key == "failed_tasks") ok = count(v, run.failed, "statistics.failed_tasks", why);
        else if (key == "timeout_tasks") ok = count(v, run.timeout, "statistics.timeout_tasks", why);
        else if (key == "cancelled_tasks") ok = count(v, run.cancelled, "statistics.cancelled_tasks", why);
        else if (key == "error_tasks") ok = count(v, run.error, "statistics.error_tasks", why);
        else if (key == "total_tokens") ok = count(v, run.total_tokens, "statistics.total_tokens", why);
        else if (key == "total_retries") ok = count(v, run.total_retries, "statistics.total_retries", why);
        else if (key == "success_rate") ok = number(v, run.success_rate, "statistics.success_rate", why);
        else if (key == "total_execution_time") ok = number(v, run.total_execution_time, "statistics.total_execution_time", why);
        else if (key == "avg_execution_time") ok = number(v, run.avg_execution_time, "statistics.avg_execution_time", why);
        else if (key == "total_cost") ok = number(v, run.total_cost, "statistics.total_cost", why);
        if (!ok) return false;
    }
    const long long *required[] = {&run.total_tasks, &run.succeeded, &run.failed, &run.timeout, &run.cancelled,
                                   &run.error, &run.total_tokens, &run.total_retries};
    for (auto field : required)
        if (*field < 0) return why = {"missing_field", "a required statistics count is missing"}, false;
    if (run.success_rate < 0 || run.total_execution_time < 0 || run.avg_execution_time < 0 || run.total_cost < 0)
        return why = {"missing_field", "a required statistics number is missing"}, false;
    return true;
}

bool decode_task(ondemand::object object, Run &run, Rejection &why) {
    Task task;
    bool has_id = false;
    for (auto field : object) {
        std::string_view key;
        ondemand::value v;
        if (field.unescaped_key().get(key) || field.value().get(v)) return why = {"malformed_json", "bad task"}, false;
        if (key == "task_id") {
            std::string_view id;
            if (v.get_string().get(id) || id.empty()) return why = {"wrong_type", "task_id must be a non-empty string"}, false;
            has_id = true;
        } else if (key == "task_status") {
            std::string_view s;
            if (v.get_string().get(s)) return why = {"wrong_type", "task_status must be a string"}, false;
            static const std::string_view statuses[] = {"pending", "queued", "running", "succeeded",
                                                        "failed",  "timeout", "cancelled", "error"};
            auto known = std::find(std::begin(statuses), std::end(statuses), s);
            if (known == std::end(statuses)) return why = {"invalid_value", "task_status is not a known status"}, false;
            task.status = *known;  // a static string: the parser's buffer is reused
        } else if (key == "execution_time") {
            if (!number(v, task.execution_time, "task_results[].execution_time", why)) return false;
        } else if (key == "error_message") {
            bool null = false;
            if (v.is_null().get(null)) return why = {"malformed_json", "bad error_message"}, false;
            if (!null) {
                std::string_view s;
                if (v.get_string().get(s)) return why = {"wrong_type", "error_message must be a string or null"}, false;
                run.error_messages.emplace_back(s);
                task.has_error_message = true;
            }
        } else if (key == "attempt_count") {
            bool null = false;
            int64_t n;
            if (v.is_null().get(null) || (!null && v.get_int64().get(n)))
                return why = {"wrong_type", "attempt_count must be an integer"}, false;
        } else if (key == "test_result") {
            ondemand::json_type type;
            if (v.type().get(type) || (type != ondemand::json_type::object && type != ondemand::json_type::null))
                return why = {"wrong_type", "test_result must be an object"}, false;
        }
    }
    if (!has_id || task.status.empty() || task.execution_time < 0)
        return why = {"missing_field", "a task lacks task_id, task_status or execution_time"}, false;
    run.tasks.push_back(task);
    return true;
}

bool decode_analysis(ondemand::object object, Run &run, Rejection &why) {
    run.has_analysis = true;
    for (auto field : object) {
        std::string_view key;
        ondemand::value v;
        if (field.unescaped_key().get(key) || field.value().get(v)) return why = {"malformed_json", "bad prompt_analysis"}, false;
        double *score = key == "overall_score" ? &run.overall
                        : key == "clarity_score" ? &run.clarity
                        : key == "efficiency_score" ? &run.efficiency
                                                    : nullptr;
        if (score) {
            if (!number(v, *score, "prompt_analysis score", why)) return false;
            if (*score > 100) return why = {"invalid_value", "a prompt_analysis score must be at most 100"}, false;
        } else if (key == "prompt_id") {
            bool null = false;
            if (v.is_null().get(null)) return why = {"malformed_json", "bad prompt_id"}, false;
            if (!null && !text(v, run.prompt_id, "prompt_analysis.prompt_id", why)) return false;
            run.has_prompt_id = !null;
        } else if (key == "issues") {
            ondemand::array issues;
            if (v.get_array().get(issues)) return why = {"wrong_type", "prompt_analysis.issues must be an array"}, false;
            for (auto element : issues) {
                ondemand::object issue;
                if (element.get_object().get(issue)) return why = {"wrong_type", "an issue must be an object"}, false;
                std::string_view severity;
                bool has_type = false, has_description = false;
                for (auto member : issue) {
                    std::string_view name, s;
                    ondemand::value iv;
                    if (member.unescaped_key().get(name) || member.value().get(iv)) return why = {"malformed_json", "bad issue"}, false;
                    if (name == "severity" || name == "type" || name == "description") {
                        if (iv.get_string().get(s)) return why = {"wrong_type", "an issue's members must be strings"}, false;
                        if (name == "severity") {
                            if (s != "critical" && s != "warning" && s != "info")
                                return why = {"invalid_value", "an issue's severity is not critical, warning or info"}, false;
                            severity = s == "critical" ? "critical" : "other";
                        }
                        has_type |= name == "type";
                        has_description |= name == "description";
                    }
                }
                if (severity.empty() || !has_type || !has_description)
                    return why = {"missing_field", "an issue lacks severity, type or description"}, false;
                run.issue_count++;
                run.critical_issues += severity == "critical";
            }
        }
    }
    if (run.overall < 0 || run.clarity < 0 || run.efficiency < 0)
        return why = {"missing_field", "prompt_analysis lacks a score"}, false;
    return true;
}

bool decode(ondemand::parser &parser, const std::vector<char> &buffer, size_t length, Run &run, Rejection &why) {
    ondemand::document document;
    ondemand::object root;
    if (parser.iterate(buffer.data(), length, buffer.size()).get(document) || document.get_object().get(root))
        return why = {"malformed_json", "the message is not a JSON object"}, false;
    bool started = false, finished = false, statistics = false;
    for (auto field : root) {
        std::string_view key;
        ondemand::value v;
        if (field.unescaped_key().get(key) || field.value().get(v)) return why = {"malformed_json", "the message is not valid JSON"}, false;
        if (key == "run_id") {
            if (!text(v, run.run_id, "run_id", why)) return false;
        } else if (key == "workflow_id") {
            if (!text(v, run.workflow_id, "workflow_id", why)) return false;
        } else if (key == "schema") {
            std::string_view s;
            if (v.get_string().get(s) || s != "executor.run_result/v1")
                return why = {"unsupported_schema", "only executor.run_result/v1 is decided here"}, false;
        } else if (key == "started_at" || key == "finished_at") {
            std::string_view s;
            if (v.get_string().get(s) || !rfc3339(s))
                return why = {"invalid_value", std::string(key) + " must be an RFC 3339 timestamp"}, false;
            if (key == "finished_at") run.finished_at.assign(s), finished = true;
            else started = true;
        } else if (key == "total_duration") {
            double d;
            if (!number(v, d, "total_duration", why)) return false;
        } else if (key == "metadata") {
            ondemand::json_type type;
            if (v.type().get(type) || (type != ondemand::json_type::object && type != ondemand::json_type::null))
                return why = {"wrong_type", "metadata must be an object"}, false;
        } else if (key == "statistics") {
            ondemand::object object;
            if (v.get_object().get(object)) return why = {"wrong_type", "statistics must be an object"}, false;
            if (!decode_statistics(object, run, why)) return false;
            statistics = true;
        } else if (key == "task_results") {
            ondemand::array tasks;
            if (v.get_array().get(tasks)) return why = {"wrong_type", "task_results must be an array"}, false;
            for (auto element : tasks) {
                ondemand::object task;
                if (element.get_object().get(task)) return why = {"wrong_type", "a task result must be an object"}, false;
                if (!decode_task(task, run, why)) return false;
            }
        } else if (key == "prompt_analysis") {
            bool null = false;
            if (v.is_null().get(null)) return why = {"malformed_json", "bad prompt_analysis"}, false;
            if (!null) {
                ondemand::object object;
                if (v.get_object().get(object)) return why = {"wrong_type", "prompt_analysis must be an object"}, false;
                if (!decode_analysis(object, run, why)) return false;
            }
        }
    }
    // Past the root object the document must be at its end: simdjson says out of bounds there.
    if (document.current_location().error() != OUT_OF_BOUNDS) return why = {"malformed_json", "trailing content after the JSON object"}, false;
    if (run.run_id.empty() || run.workflow_id.empty() || !started || !finished || !statistics)
        return why = {"missing_field", "run_id, workflow_id, started_at, finished_at and statistics are required"}, false;
    if (run.tasks.empty()) return why = {"invalid_value", "task_results must not be empty"}, false;
    if (run.success_rate > 1) return why = {"invalid_value", "statistics.success_rate must be between 0 and 1"}, false;
    if (run.total_tasks < 1) return why = {"invalid_value", "statistics.total_tasks must be at least 1"}, false;
    if (run.succeeded + run.failed + run.timeout + run.cancelled + run.error > run.total_tasks)
        return why = {"inconsistent", "statistics.total_tasks is less than the outcomes together"}, false;
    long long completed = run.completed_tasks >= 0 ? run.completed_tasks : run.succeeded + run.failed + run.timeout + run.error;
    double counted = completed > 0 ? double(run.succeeded) / double(completed) : 0;
    if (std::abs(counted - run.success_rate) > 0.001)
        return why = {"inconsistent", "statistics.success_rate disagrees with succeeded_tasks / completed_tasks"}, false;
    return true;
}

// MARK: The report, the rules, the history

bool contains_folded(std::string_view haystack, std::string_view needle) {
    if (needle.size() > haystack.size()) return false;
    for (size_t i = 0; i + needle.size() <= haystack.size(); i++) {
        size_t j = 0;
        while (j < needle.size() && std::tolower((unsigned char)haystack[i + j]) == needle[j]) j++;
        if (j == needle.size()) return true;
    }
    return false;
}

const std::string_view llm_patterns[] = {"rate limit", "rate_limit", "too many requests", "429", "content filter",
                                         "content_filter", "content policy", "context length", "context_length",
                                         "maximum context", "token limit", "quota", "overloaded"};
const std::string_view validation_patterns[] = {"validation", "schema", "invalid json", "jsondecodeerror",
                                                "parse error", "output format", "missing required", "expected format"};

struct Report {
    long long total, successful, failed, cancelled, total_tokens, timeout_errors, api_errors, validation_errors,
        llm_errors;
    double success_rate, avg_ms, avg_tokens, total_cost, cost_per_request;
    bool has_percentiles;
    double p95, p99;
    double timeout_rate() const { return double(timeout_errors) / double(total); }
};

Report make_report(const Run &run, std::vector<double> &times) {
    long long completed = run.completed_tasks >= 0 ? run.completed_tasks : run.succeeded + run.failed + run.timeout + run.error;
    times.clear();
    for (const Task &task : run.tasks)
        if (task.execution_time * 1000 > 0) times.push_back(task.execution_time * 1000);
    std::sort(times.begin(), times.end());
    long long llm = 0, validation = 0, classified_errors = 0;
    size_t message = 0;
    for (const Task &task : run.tasks) {
        if (!task.has_error_message) continue;
        std::string_view text = run.error_messages[message++];
        if (task.status != "error" && task.status != "failed") continue;
        bool is_llm = std::any_of(std::begin(llm_patterns), std::end(llm_patterns), [&](auto p) { return contains_folded(text, p); });
        bool is_validation = !is_llm && std::any_of(std::begin(validation_patterns), std::end(validation_patterns),
                                                    [&](auto p) { return contains_folded(text, p); });
        llm += is_llm;
        validation += is_validation;
        classified_errors += (is_llm || is_validation) && task.status == "error";
    }
    auto at = [&](double q) { return times[std::min(times.size() - 1, size_t(double(times.size()) * q))]; };
    Report r{};
    r.total = run.total_tasks;
    r.successful = run.succeeded;
    r.failed = run.failed + run.timeout + run.error;
    r.cancelled = run.cancelled;
    r.total_tokens = run.total_tokens;
    r.timeout_errors = run.timeout;
    r.api_errors = std::max(0LL, run.error - classified_errors);
    r.validation_errors = validation;
    r.llm_errors = llm;
    r.success_rate = run.success_rate;
    r.avg_ms = run.avg_execution_time * 1000;
    r.avg_tokens = completed > 0 ? double(run.total_tokens) / double(completed) : 0;
    r.total_cost = run.total_cost;
    r.cost_per_request = completed > 0 ? run.total_cost / double(completed) : 0;
    r.has_percentiles = !times.empty();
    if (r.has_percentiles) r.p95 = at(0.95), r.p99 = at(0.99);
    return r;
}

struct Point {
    double success_rate, avg_ms, cost_per_request;
};

struct Finding {
    const char *code;
    double observed, reference;
    std::string message;
};

// The shortest text that reads back as `value`; in JSON with ".0" on whole numbers, in sentences without
// (as the service writes them).
void append_number(std::string &out, double value, bool json = true) {
    char buffer[32];
    auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
    out.append(buffer, end);
    if (json && std::find_if(buffer, end, [](char c) { return c == '.' || c == 'e' || c == 'n' || c == 'i'; }) == end)
        out += ".0";
}

void append_integer(std::string &out, long long value) {
    char buffer[24];
    out.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
}

struct Sentence {
    std::string text;
    Sentence &operator<<(const char *s) { return text += s, *this; }
    Sentence &operator<<(double d) { return append_number(text, d, false), *this; }
    Sentence &operator<<(long long n) { return append_integer(text, n), *this; }
};

const double optimization_threshold = 80, clarity_efficiency_gap = 10, low_score_threshold = 70,
             min_success_rate = 0.8, max_latency_ms = 5000, max_cost = 0.1, max_timeout_rate = 0.05,
             success_rate_drop = 0.10, latency_factor = 1.5, cost_factor = 1.5;
const long long critical_issue_threshold = 1;
const size_t baseline_window = 20, baseline_min_runs = 5;

std::vector<Finding> reasons(const Run &run, const Report &r) {
    std::vector<Finding> found;
    if (run.has_analysis) {
        if (run.overall < optimization_threshold)
            found.push_back({"low_overall_score", run.overall, optimization_threshold,
                             (Sentence() << "overall score " << run.overall << " is below the optimization threshold "
                                         << optimization_threshold).text});
        if (run.critical_issues >= critical_issue_threshold) {
            bool one = run.critical_issues == 1;
            found.push_back({"critical_issues", double(run.critical_issues), double(critical_issue_threshold),
                             (Sentence() << run.critical_issues << (one ? " critical issue reaches" : " critical issues reach")
                                         << " the threshold of " << critical_issue_threshold).text});
        }
    }
    if (r.success_rate < min_success_rate)
        found.push_back({"low_success_rate", r.success_rate, min_success_rate,
                         (Sentence() << "success rate " << r.success_rate << " is below the minimum " << min_success_rate).text});
    if (r.avg_ms > max_latency_ms)
        found.push_back({"high_latency", r.avg_ms, max_latency_ms,
                         (Sentence() << "average response time " << r.avg_ms << " ms exceeds the maximum " << max_latency_ms
                                     << " ms").text});
    if (r.cost_per_request > max_cost)
        found.push_back({"high_cost", r.cost_per_request, max_cost,
                         (Sentence() << "cost per request " << r.cost_per_request << " USD exceeds the maximum " << max_cost
                                     << " USD").text});
    double timeouts = r.timeout_rate();
    if (timeouts > max_timeout_rate)
        found.push_back({"excessive_timeouts", timeouts, max_timeout_rate,
                         (Sentence() << "timeout rate " << timeouts << " exceeds the maximum " << max_timeout_rate).text});
    return found;
}

std::vector<Finding> regressions(const Report &r, const std::deque<Point> &baseline) {
    std::vector<Finding> found;
    if (baseline.size() < baseline_min_runs || baseline.empty()) return found;
    double n = double(baseline.size()), success = 0, latency = 0, cost = 0;
    for (const Point &p : baseline) success += p.success_rate, latency += p.avg_ms, cost += p.cost_per_request;
    success /= n, latency /= n, cost /= n;
    long long runs = (long long)baseline.size();
    if (r.success_rate < success - success_rate_drop)
        found.push_back({"success_rate_regression", r.success_rate, success,
                         (Sentence() << "success rate " << r.success_rate << " is more than " << success_rate_drop
                                     << " below the mean " << success << " of the last " << runs << " runs").text});
    if (latency > 0 && r.avg_ms > latency * latency_factor)
        found.push_back({"latency_regression", r.avg_ms, latency,
                         (Sentence() << "average response time " << r.avg_ms << " ms is more than " << latency_factor
                                     << "\u00d7 the mean " << latency << " ms of the last " << runs << " runs").text});
    if (cost > 0 && r.cost_per_request > cost * cost_factor)
        found.push_back({"cost_regression", r.cost_per_request, cost,
                         (Sentence() << "cost per request " << r.cost_per_request << " USD is more than " << cost_factor
                                     << "\u00d7 the mean " << cost << " USD of the last " << runs << " runs").text});
    return found;
}

const char *strategy(const Run &run, const Report &r, const std::vector<Finding> &reasons) {
    if (r.timeout_rate() > 0.1) return "clarity_focus";
    if (!run.has_analysis) {
        bool costly = std::any_of(reasons.begin(), reasons.end(), [](const Finding &f) {
            return std::strcmp(f.code, "high_latency") == 0 || std::strcmp(f.code, "high_cost") == 0;
        });
        return costly ? "efficiency_focus" : "clarity_focus";
    }
    if (run.efficiency < low_score_threshold) return "efficiency_focus";
    if (run.clarity < run.efficiency - clarity_efficiency_gap) return "clarity_focus";
    if (run.efficiency < run.clarity - clarity_efficiency_gap) return "efficiency_focus";
    if (run.clarity < low_score_threshold && run.efficiency < low_score_threshold) return "structure_focus";
    return "clarity_focus";
}

// MARK: The decision

const char fingerprint[] = "sha256:a68eeab32a5ca2e4";  // the service's default rules, the ones used here

struct Id {
    uint64_t high, low;
    bool operator==(const Id &other) const { return high == other.high && low == other.low; }
};
struct IdHash {
    size_t operator()(const Id &id) const { return id.high ^ (id.low * 0x9e3779b97f4a7c15ULL); }
};

Id decision_id(const Run &run, std::string &scratch) {
    scratch.assign("optimizer.decision/v1", sizeof "optimizer.decision/v1");  // with its NUL
    scratch.append(fingerprint);
    scratch.append("\0run\0", 5);
    scratch.append(run.workflow_id);
    scratch.push_back('\0');
    scratch.append(run.run_id);
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)scratch.data(), scratch.size(), digest);
    Id id;
    std::memcpy(&id.high, digest, 8);
    std::memcpy(&id.low, digest + 8, 8);
    return id;
}

void append_string(std::string &out, std::string_view s) {
    out.push_back('"');
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') out.push_back('\\'), out.push_back(char(c));
        else if (c < 0x20) {
            char escape[8];
            std::snprintf(escape, sizeof escape, "\\u%04x", c);
            out.append(escape);
        } else out.push_back(char(c));
    }
    out.push_back('"');
}

void append_findings(std::string &out, const std::vector<Finding> &findings, const char *reference) {
    out.push_back('[');
    for (size_t i = 0; i < findings.size(); i++) {
        const Finding &f = findings[i];
        if (i) out.push_back(',');
        out += "{\"code\":\"";
        out += f.code;
        out += "\",\"observed\":";
        append_number(out, f.observed);
        out += ",\"";
        out += reference;
        out += "\":";
        append_number(out, f.reference);
        out += ",\"message\":";
        append_string(out, f.message);
        out.push_back('}');
    }
    out.push_back(']');
}

void encode(std::string &out, const Run &run, const Report &r, Id id, const char *chosen,
            const std::vector<Finding> &why, const std::vector<Finding> &regressed, int32_t partition, int64_t offset,
            int64_t timestamp_ms) {
    out.clear();
    char hex[33];
    std::snprintf(hex, sizeof hex, "%016llx%016llx", (unsigned long long)__builtin_bswap64(id.high),
                  (unsigned long long)__builtin_bswap64(id.low));
    out += "{\"schema\":\"optimizer.decision/v1\",\"decision_id\":\"";
    out += hex;
    out += "\",\"workflow_id\":";
    append_string(out, run.workflow_id);
    out += ",\"run_id\":";
    append_string(out, run.run_id);
    out += ",\"should_optimize\":";
    out += chosen ? "true" : "false";
    out += ",\"strategy\":";
    if (chosen) out += '"', out += chosen, out += '"';
    else out += "null";
    out += ",\"reasons\":";
    append_findings(out, why, "threshold");
    out += ",\"regressions\":";
    append_findings(out, regressed, "baseline");
    out += ",\"report\":{\"workflow_id\":";
    append_string(out, run.workflow_id);
    out += ",\"run_id\":";
    append_string(out, run.run_id);
    out += ",\"total_tests\":", append_integer(out, r.total);
    out += ",\"successful_tests\":", append_integer(out, r.successful);
    out += ",\"failed_tests\":", append_integer(out, r.failed);
    out += ",\"cancelled_tests\":", append_integer(out, r.cancelled);
    out += ",\"success_rate\":", append_number(out, r.success_rate);
    out += ",\"avg_response_time_ms\":", append_number(out, r.avg_ms);
    out += ",\"p95_response_time_ms\":";
    r.has_percentiles ? append_number(out, r.p95) : void(out += "null");
    out += ",\"p99_response_time_ms\":";
    r.has_percentiles ? append_number(out, r.p99) : void(out += "null");
    out += ",\"total_tokens\":", append_integer(out, r.total_tokens);
    out += ",\"avg_tokens_per_request\":", append_number(out, r.avg_tokens);
    out += ",\"total_cost\":", append_number(out, r.total_cost);
    out += ",\"cost_per_request\":", append_number(out, r.cost_per_request);
    out += ",\"error_distribution\":{\"timeout_errors\":", append_integer(out, r.timeout_errors);
    out += ",\"api_errors\":", append_integer(out, r.api_errors);
    out += ",\"validation_errors\":", append_integer(out, r.validation_errors);
    out += ",\"llm_errors\":", append_integer(out, r.llm_errors);
    out += ",\"total_errors\":", append_integer(out, r.timeout_errors + r.api_errors + r.validation_errors + r.llm_errors);
    out += "},\"executed_at\":";
    append_string(out, run.finished_at);
    out += ",\"metadata\":{\"total_retries\":", append_integer(out, run.total_retries);
    out += ",\"cancelled_tasks\":", append_integer(out, run.cancelled);
    out += "}},\"analysis\":";
    if (run.has_analysis) {
        out += "{\"prompt_id\":";
        run.has_prompt_id ? append_string(out, run.prompt_id) : void(out += "null");
        out += ",\"overall_score\":", append_number(out, run.overall);
        out += ",\"clarity_score\":", append_number(out, run.clarity);
        out += ",\"efficiency_score\":", append_number(out, run.efficiency);
        out += ",\"critical_issues\":", append_integer(out, run.critical_issues);
        out += ",\"issue_count\":", append_integer(out, run.issue_count);
        out += '}';
    } else out += "null";
    out += ",\"input_schema\":\"executor.run_result/v1\",\"rules_fingerprint\":\"";
    out += fingerprint;
    out += "\",\"source\":{\"topic\":";
    append_string(out, input_topic);
    out += ",\"partition\":", append_integer(out, partition);
    out += ",\"offset\":", append_integer(out, offset);
    out += ",\"timestamp_ms\":";
    timestamp_ms >= 0 ? append_integer(out, timestamp_ms) : void(out += "null");
    timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    tm utc;
    gmtime_r(&now.tv_sec, &utc);
    char decided[96];
    std::snprintf(decided, sizeof decided, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", utc.tm_year + 1900, utc.tm_mon + 1,
                  utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, now.tv_nsec / 1000000);
    out += "},\"decided_at\":\"";
    out += decided;
    out += "\",\"producer\":{\"name\":\"native-decider\",\"version\":\"1\"},\"variant\":null,\"variant_comparison\":null}";
}

struct PartitionState {
    std::unordered_set<Id, IdHash> decided;
    std::unordered_map<std::string, std::deque<Point>> history;
};

void produce(rd_kafka_t *producer, const char *topic, int32_t partition, const void *value, size_t length,
             const rd_kafka_message_t *input, const char *header, const char *header_value) {
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_VALUE(const_cast<void *>(value), length), RD_KAFKA_V_KEY(input->key, input->key_len),
            RD_KAFKA_V_HEADER(header, header_value, -1),
            RD_KAFKA_V_HEADER("content-type", "application/json", -1),
            RD_KAFKA_V_OPAQUE(input_position(input)), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce", rd_kafka_err2str(err));
        rd_kafka_poll(producer, 10);
    }
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 7) die("usage", "native_decider <bootstrap> <input> <output> <dlq> <group> <count>");
    const char *bootstrap = argv[1], *output_topic = argv[3], *dlq_topic = argv[4], *group = argv[5];
    input_topic = argv[2];
    long target = std::atol(argv[6]);
    char error[512];
    std::signal(SIGTERM, [](int) { stopping = 1; });
    std::signal(SIGINT, [](int) { stopping = 1; });

    rd_kafka_conf_t *cconf = rd_kafka_conf_new();
    set(cconf, "bootstrap.servers", bootstrap);
    set(cconf, "group.id", group);
    set(cconf, "enable.auto.offset.store", "false");
    set(cconf, "auto.offset.reset", "earliest");
    set(cconf, "auto.commit.interval.ms", "1000");
    set(cconf, "partition.assignment.strategy", "cooperative-sticky");
    if (!(consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cconf, error, sizeof error))) die("consumer", error);
    rd_kafka_poll_set_consumer(consumer);

    rd_kafka_conf_t *pconf = rd_kafka_conf_new();
    set(pconf, "bootstrap.servers", bootstrap);
    set(pconf, "enable.idempotence", "true");
    set(pconf, "linger.ms", "5");
    rd_kafka_conf_set_dr_msg_cb(pconf, on_delivery);
    rd_kafka_t *producer = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, error, sizeof error);
    if (!producer) die("producer", error);

    rd_kafka_topic_partition_list_t *subscription = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subscription, input_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer, subscription);
    rd_kafka_topic_partition_list_destroy(subscription);
    if (err) die("subscribe", rd_kafka_err2str(err));

    ondemand::parser parser;
    std::vector<char> padded;
    std::vector<double> times;
    std::string output, scratch;
    std::unordered_map<int32_t, PartitionState> partitions;
    long decided = 0, duplicates = 0, dead_letters = 0;
    while (!stopping && handled < target) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll(consumer, 10);
        if (message && !message->err) {
            if (padded.size() < message->len + SIMDJSON_PADDING) padded.resize(message->len + SIMDJSON_PADDING);
            std::memcpy(padded.data(), message->payload, message->len);
            Run run;
            Rejection why;
            if (!decode(parser, padded, message->len, run, why)) {
                dead_letters++;
                produce(producer, dlq_topic, RD_KAFKA_PARTITION_UA, message->payload, message->len, message, "dlq-error",
                        (why.reason + ": " + why.message).c_str());
            } else {
                PartitionState &state = partitions[message->partition];
                Id id = decision_id(run, scratch);
                if (!state.decided.insert(id).second) {
                    duplicates++;
                    store_offset(message->partition, message->offset);
                    handled++;
                } else {
                    decided++;
                    Report report = make_report(run, times);
                    std::deque<Point> &history = state.history[run.workflow_id];
                    std::vector<Finding> why_optimize = reasons(run, report);
                    std::vector<Finding> regressed = regressions(report, history);
                    if (history.size() == baseline_window) history.pop_front();
                    history.push_back({report.success_rate, report.avg_ms, report.cost_per_request});
                    const char *chosen = why_optimize.empty() ? nullptr : strategy(run, report, why_optimize);
                    rd_kafka_timestamp_type_t type;
                    int64_t timestamp = rd_kafka_message_timestamp(message, &type);
                    encode(output, run, report, id, chosen, why_optimize, regressed, message->partition,
                           message->offset, type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : timestamp);
                    produce(producer, output_topic, message->partition, output.data(), output.size(), message, "schema",
                            "optimizer.decision/v1");
                }
            }
        }
        if (message) rd_kafka_message_destroy(message);
        rd_kafka_poll(producer, 0);
    }
    rd_kafka_flush(producer, 10000);
    rd_kafka_commit(consumer, nullptr, 0);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(producer);
    rd_kafka_destroy(consumer);
    std::fprintf(stderr, "native_decider: %ld decided, %ld duplicates, %ld dead letters\n", decided, duplicates,
                 dead_letters);
    return 0;
}
