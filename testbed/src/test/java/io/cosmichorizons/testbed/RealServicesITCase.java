package io.cosmichorizons.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(RealServices.class)
class RealServicesITCase {

    @Test
    void readCommittedConsumerSeesOnlyCommittedTransactions() throws Exception {
        String topic = RealServices.uniqueName("tx");
        RealServices.createTopic(topic, 2);
        RealServices.createTopic(topic, 2); // idempotent

        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, RealServices.bootstrapServers());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, RealServices.uniqueName("txid"));
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "60000");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int i = 1; i <= 3; i++) {
                producer.send(new ProducerRecord<>(topic, "k" + i, "committed-" + i));
            }
            producer.commitTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "k1", "aborted-1"));
            producer.send(new ProducerRecord<>(topic, "k2", "aborted-2"));
            producer.flush();
            producer.abortTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "k4", "committed-4"));
            producer.commitTransaction();
        }

        assertEquals(List.of("committed-1", "committed-2", "committed-3", "committed-4"),
                readAll(topic, "read_committed"));
        List<String> uncommitted = readAll(topic, "read_uncommitted");
        assertEquals(6, uncommitted.size(), uncommitted.toString());
        assertTrue(uncommitted.containsAll(List.of("aborted-1", "aborted-2")));
    }

    /** Reads every partition from the beginning up to its end offset (for read_committed: the stable offset). */
    private static List<String> readAll(String topic, String isolation) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, RealServices.bootstrapServers());
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                    .map(info -> new TopicPartition(topic, info.partition())).collect(Collectors.toList());
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(10));
            List<ConsumerRecord<String, String>> records = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                assertTrue(System.nanoTime() - deadline < 0, "timed out reading " + topic);
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            // Sorted by value: the records of two partitions arrive in no defined order.
            return records.stream()
                    .sorted((a, b) -> a.value().compareTo(b.value()))
                    .map(ConsumerRecord::value)
                    .collect(Collectors.toList());
        }
    }

    @Test
    void jdbcConnectionRunsSql() throws SQLException {
        String schema = RealServices.uniqueName("s");
        try (Connection c = RealServices.newConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
            s.execute("CREATE TABLE " + schema + ".t (id int PRIMARY KEY, v text)");
            s.execute("INSERT INTO " + schema + ".t VALUES (1, 'a'), (2, 'b') ON CONFLICT (id) DO NOTHING");
            try (ResultSet rs = s.executeQuery("SELECT count(*), current_database() FROM " + schema + ".t")) {
                assertTrue(rs.next());
                assertEquals(2, rs.getInt(1));
                assertEquals(JdbcUrls.database(RealServices.jdbcUrl()), rs.getString(2));
            }
            assertEquals("10", show(s, "max_prepared_transactions"));
        }
    }

    @Test
    void preparedTransactionsWork() throws SQLException {
        String table = RealServices.uniqueName("xa");
        String gid = RealServices.uniqueName("gid");
        try (Connection c = RealServices.newConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE " + table + " (id int)");
            c.setAutoCommit(false);
            s.execute("INSERT INTO " + table + " VALUES (1)");
            s.execute("PREPARE TRANSACTION '" + gid + "'");
            c.setAutoCommit(true);
            s.execute("COMMIT PREPARED '" + gid + "'");
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
                assertTrue(rs.next());
                assertEquals(1, rs.getInt(1));
            }
        }
    }

    @Test
    void embeddedPostgresIsFastByDefault() throws SQLException {
        assumeTrue(RealServices.postgres().isPresent(), "PostgreSQL is external (JDBC_URL)");
        try (Connection c = RealServices.newConnection(); Statement s = c.createStatement()) {
            assertEquals("off", show(s, "fsync"));
            assertEquals("off", show(s, "synchronous_commit"));
            assertEquals("200", show(s, "max_connections"));
        }
    }

    @Test
    void freshDatabaseIsEmptyAndOwnedByTheTestUser() throws SQLException {
        String url = RealServices.freshDatabase("Fresh-DB");
        String other = RealServices.freshDatabase("fresh_db");
        assertNotEquals(url, other);
        String name = JdbcUrls.database(url);
        assertTrue(name.startsWith("fresh_db_"), name);
        try (Connection c = java.sql.DriverManager.getConnection(url); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT current_database(), "
                    + "(SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public')")) {
                assertTrue(rs.next());
                assertEquals(name, rs.getString(1));
                assertEquals(0, rs.getInt(2));
            }
            s.execute("CREATE TABLE mine (id int)");
        }
    }

    @Test
    void embeddedInstancesAreExposed() {
        RealServices.kafka().ifPresent(k -> {
            assertTrue(k.isRunning());
            assertEquals(k.bootstrapServers(), RealServices.bootstrapServers());
            assertTrue(k.pid() > 0);
        });
        RealServices.postgres().ifPresent(pg -> {
            assertTrue(pg.isRunning());
            assertEquals(pg.jdbcUrl(), RealServices.jdbcUrl());
        });
        assertFalse(RealServices.uniqueName("a").equals(RealServices.uniqueName("a")));
    }

    private static String show(Statement s, String setting) throws SQLException {
        try (ResultSet rs = s.executeQuery("SHOW " + setting)) {
            assertTrue(rs.next());
            return rs.getString(1);
        }
    }
}
