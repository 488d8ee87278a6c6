package io.cosmichorizons.cli;

import io.cosmichorizons.pipeline.io.db.Migrations;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code horizons db migrate|status}. */
@Command(name = "db", mixinStandardHelpOptions = true, description = "Manage the PostgreSQL schema.",
        subcommands = {DbCommand.Migrate.class, DbCommand.Status.class})
public final class DbCommand {

    @Command(name = "migrate", mixinStandardHelpOptions = true,
            description = "Apply the pending migrations from sql/migrations, in order.")
    static final class Migrate implements Callable<Integer> {
        @Mixin
        ServiceOptions services;

        @Override
        public Integer call() throws Exception {
            List<Migrations.Migration> applied = Migrations.migrate(services.jdbcUrl, System.out::println);
            System.out.println(applied.isEmpty() ? "Schema is up to date." : "Applied " + applied.size() + " migration(s).");
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "List the migrations and whether they are applied.")
    static final class Status implements Callable<Integer> {
        @Mixin
        ServiceOptions services;

        @Override
        public Integer call() throws Exception {
            try (var c = java.sql.DriverManager.getConnection(services.jdbcUrl); var s = c.createStatement()) {
                java.util.Set<Integer> done = new java.util.HashSet<>();
                try (var rs = s.executeQuery("SELECT version FROM schema_migrations")) {
                    while (rs.next()) {
                        done.add(rs.getInt(1));
                    }
                } catch (java.sql.SQLException e) {
                    // No schema_migrations table yet: nothing applied.
                }
                for (Migrations.Migration m : Migrations.load()) {
                    System.out.printf("V%03d %-40s %s%n", m.version(), m.name(), done.contains(m.version()) ? "applied" : "pending");
                }
            }
            return 0;
        }
    }
}
