/*
 * The benchmark's baseline: a pass-through written directly against librdkafka's C API, sharing no code
 * with optimizer-decider. It consumes the input topic in a consumer group, produces each message's bytes
 * and key unchanged to the same partition number of the output topic, and stores a message's offset once
 * its output is delivered (the delivery callback), committing stored offsets on librdkafka's timer. It
 * exits after `count` outputs are delivered. Built and run by scripts/benchmark.
 *
 * usage: passthrough <bootstrap> <input topic> <output topic> <group> <count>
 */
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stopping = 0;
static long delivered = 0;
static rd_kafka_t *consumer;
static const char *input_topic;

static void on_signal(int sig) { (void)sig; stopping = 1; }

static void die(const char *what, const char *why) {
    fprintf(stderr, "passthrough: %s: %s\n", what, why);
    exit(1);
}

static void set(rd_kafka_conf_t *conf, const char *key, const char *value) {
    char error[512];
    if (rd_kafka_conf_set(conf, key, value, error, sizeof error) != RD_KAFKA_CONF_OK) die(key, error);
}

/* Runs on the producer's poll: the input offset rides along as the message opaque. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque) {
    (void)rk; (void)opaque;
    if (message->err) die("delivery", rd_kafka_err2str(message->err));
    int64_t next = (int64_t)(intptr_t)message->_private + 1;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, input_topic, message->partition)->offset = next;
    rd_kafka_offsets_store(consumer, list);
    rd_kafka_topic_partition_list_destroy(list);
    delivered++;
}

int main(int argc, char **argv) {
    if (argc != 6) die("usage", "passthrough <bootstrap> <input topic> <output topic> <group> <count>");
    const char *bootstrap = argv[1], *output_topic = argv[3], *group = argv[4];
    input_topic = argv[2];
    long count = atol(argv[5]);
    char error[512];
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

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
    rd_kafka_topic_t *output = rd_kafka_topic_new(producer, output_topic, NULL);

    rd_kafka_topic_partition_list_t *subscription = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subscription, input_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer, subscription);
    rd_kafka_topic_partition_list_destroy(subscription);
    if (err) die("subscribe", rd_kafka_err2str(err));

    while (!stopping && delivered < count) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll(consumer, 10);
        if (message) {
            if (!message->err) {
                while (rd_kafka_produce(output, message->partition, RD_KAFKA_MSG_F_COPY, message->payload, message->len,
                                        message->key, message->key_len, (void *)(intptr_t)message->offset) == -1) {
                    if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce", rd_kafka_err2str(rd_kafka_last_error()));
                    rd_kafka_poll(producer, 10);
                }
            }
            rd_kafka_message_destroy(message);
        }
        rd_kafka_poll(producer, 0);
    }
    rd_kafka_flush(producer, 10000);
    rd_kafka_commit(consumer, NULL, 0);
    rd_kafka_consumer_close(consumer);
    rd_kafka_topic_destroy(output);
    rd_kafka_destroy(producer);
    rd_kafka_destroy(consumer);
    fprintf(stderr, "passthrough: %ld delivered\n", delivered);
    return 0;
}
