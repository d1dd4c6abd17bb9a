#ifndef OPTIMIZER_DECIDER_CRDKAFKA_SHIM_H
#define OPTIMIZER_DECIDER_CRDKAFKA_SHIM_H
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#endif
