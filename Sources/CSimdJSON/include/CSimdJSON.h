#ifndef OPTIMIZER_DECIDER_CSIMDJSON_H
#define OPTIMIZER_DECIDER_CSIMDJSON_H
/* A small C interface to simdjson's DOM parser (Debian libsimdjson-dev), for the input decoder's fast
   path. Elements are valid until the next parse with the same parser. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A simdjson DOM element, copied by value (a document pointer and a tape index). */
typedef struct { uint64_t opaque[2]; } sj_element;

typedef struct sj_parser sj_parser;

typedef enum {
    SJ_ARRAY = 0, SJ_OBJECT, SJ_INT64, SJ_UINT64, SJ_DOUBLE, SJ_STRING, SJ_BOOL, SJ_NULL
} sj_type_t;

/** A parser whose documents may nest at most `max_depth` containers. NULL when out of memory. */
sj_parser *sj_parser_new(size_t max_depth);
void sj_parser_free(sj_parser *parser);

/** Parses `len` bytes; 0 and the root on success, else simdjson's error code (never 0). */
int sj_parse(sj_parser *parser, const uint8_t *bytes, size_t len, sj_element *root);

sj_type_t sj_type(sj_element element);
int64_t sj_int64(sj_element element);
uint64_t sj_uint64(sj_element element);
double sj_double(sj_element element);
/** The string's UTF-8 bytes (validated by the parser) and their count. */
const char *sj_string(sj_element element, size_t *length);

/** The value of the last member named `key` (as Python's json keeps the last); 1 when found.
    `object` must belong to the parser's current document; the parser remembers the members of the
    two objects looked up last, so repeated look-ups in one object read the document once. */
int sj_object_find_last(sj_parser *parser, sj_element object, const char *key, size_t key_length, sj_element *value);
/** Copies up to `capacity` elements of an array into `out`; returns the array's element count. */
size_t sj_array_elements(sj_element array, sj_element *out, size_t capacity);

/** A string member of the current document: its UTF-8 bytes (validated by the parser), or NULL bytes when
    the member is absent or null. */
typedef struct { const char *bytes; size_t length; } sj_text;

/** One of a run's `task_results`. */
typedef struct {
    sj_text task_id, task_status, error_message;
    double execution_time;
    int64_t attempt_count;
    bool has_attempt_count;
} sj_task;

/** One of `prompt_analysis.issues`. */
typedef struct { sj_text severity, type, description; } sj_issue;

/** The members of an executor run result (`executor.run_result/v1`) that the decoder reads, and nothing
    else. The tasks and issues belong to the parser; all of it is valid until its next parse. */
typedef struct {
    sj_text run_id, workflow_id, started_at, finished_at;
    /** `metadata.variant` when it is a string. */
    sj_text variant;
    int64_t total_tasks, completed_tasks, succeeded_tasks, failed_tasks, timeout_tasks, cancelled_tasks, error_tasks,
        total_tokens, total_retries;
    bool has_completed_tasks;
    double success_rate, total_execution_time, avg_execution_time, total_cost;
    const sj_task *tasks;
    size_t task_count;
    bool has_analysis;
    sj_text prompt_id;
    double overall_score, clarity_score, efficiency_score;
    const sj_issue *issues;
    size_t issue_count;
} sj_run_result;

/** Reads `root` as an executor run result in one pass over each object, matching member names on their
    bytes. 1 when every member the decoder reads is present where required and of its plain type (strings,
    int64 integers, finite numbers; null only where a member is optional) and none of them is repeated;
    0 for anything else, which the caller then reads member by member to give the precise verdict.
    Numbers are read as Python reads them: an integer as a double where a number is expected, -0 as 0. */
int sj_read_run_result(sj_parser *parser, sj_element root, sj_run_result *out);

#ifdef __cplusplus
}
#endif
#endif
