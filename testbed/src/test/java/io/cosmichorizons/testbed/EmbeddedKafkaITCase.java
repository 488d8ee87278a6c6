package io.cosmichorizons.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** A broker of its own (not the shared one), bounced with stop/start and kill/restart. */
class EmbeddedKafkaITCase {

    private static final String TOPIC = "bounce";

    @Test
    void restartKeepsPortAndDataAndClientsReconnect() throws Exception {
        Path dataDir;
        // A short broker session: after kill() the restarted controller waits for the old session to expire.
        try (EmbeddedKafka kafka = EmbeddedKafka.builder()
                .brokerProperty("broker.session.timeout.ms", "3000")
                .brokerProperty("broker.heartbeat.interval.ms", "500")
                .build().start()) {
            dataDir = kafka.dataDirectory();
            String bootstrap = kafka.bootstrapServers();
            assertTrue(bootstrap.startsWith("127.0.0.1:"), bootstrap);
            assertTrue(Files.isRegularFile(kafka.serverLog()), "the broker logs to its data dir");
            assertTrue(Files.readString(kafka.dataDirectory().resolve("server.properties"))
                    .contains("broker.session.timeout.ms=3000"));
            long firstPid = kafka.pid();

            try (Admin admin = Admin.create(adminProps(bootstrap))) {
                admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            try (KafkaProducer<String, String> producer = producer(bootstrap)) {
                send(producer, 0, 10);

                kafka.stop();
                assertFalse(kafka.isRunning());
                assertEquals(-1, kafka.pid());

                kafka.start();
                assertEquals(bootstrap, kafka.bootstrapServers());
                assertNotEquals(firstPid, kafka.pid());
                send(producer, 10, 20); // the same producer reconnects to the restarted broker

                kafka.kill();
                assertFalse(kafka.isRunning());
                kafka.restart();
                assertEquals(bootstrap, kafka.bootstrapServers());
                send(producer, 20, 25);
            }

            List<String> values = readAll(bootstrap);
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 25; i++) {
                expected.add("v" + i);
            }
            assertEquals(expected, values);
        }
        assertFalse(Files.exists(dataDir), "a temporary data directory is deleted on close");
    }

    private static void send(KafkaProducer<String, String> producer, int from, int to) throws Exception {
        for (int i = from; i < to; i++) {
            producer.send(new ProducerRecord<>(TOPIC, "k" + i, "v" + i)).get(60, TimeUnit.SECONDS);
        }
    }

    private static Properties adminProps(String bootstrap) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return p;
    }

    private static KafkaProducer<String, String> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000");
        p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    private static List<String> readAll(String bootstrap) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
            TopicPartition tp = new TopicPartition(TOPIC, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp), Duration.ofSeconds(10)).get(tp);
            List<String> values = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (consumer.position(tp) < end) {
                assertTrue(System.nanoTime() - deadline < 0, "timed out reading " + TOPIC);
                consumer.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
            }
            return values;
        }
    }
}
