package io.cosmichorizons.cli;

import io.cosmichorizons.pipeline.io.db.AuditWriterLogin;
import io.cosmichorizons.pipeline.io.db.Migrations;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code horizons db migrate|status}. */
@Command(name = "db", mixinStandardHelpOptions = true, description = "Manage the PostgreSQL schema.",
        subcommands = {DbCommand.Migrate.class, DbCommand.Status.class})
public final class DbCommand {

    @Command(name = "migrate", mixinStandardHelpOptions = true,
            description = {"Apply the pending migrations from sql/migrations, in order.",
                    "With --audit-login, also create (or update) the audit job's own login: a member of "
                            + AuditWriterLogin.WRITER_ROLE + ", which may only insert and read ledger entries."})
    static final class Migrate implements Callable<Integer> {
        static final String DEFAULT_PASSWORD_ENV = "AUDIT_DB_PASSWORD";

        @Mixin
        ServiceOptions services;

        @Option(names = "--audit-login", paramLabel = "NAME",
                description = "Create or update this LOGIN role for the audit job, member of " + AuditWriterLogin.WRITER_ROLE
                        + " (needs a user who may create roles)")
        String auditLogin;

        @Option(names = "--audit-password-env", paramLabel = "VAR", defaultValue = DEFAULT_PASSWORD_ENV,
                description = "Environment variable holding that login's password (default ${DEFAULT-VALUE}); "
                        + "not an option value, so it stays out of the process list")
        String auditPasswordEnv;

        /** Where the password is looked up; a test hands in its own, as a JVM cannot set its environment. */
        Function<String, String> environment = System::getenv;

        @Override
        public Integer call() throws Exception {
            String password = auditLogin == null ? null : environment.apply(auditPasswordEnv);
            if (auditLogin != null && (password == null || password.isEmpty())) {
                throw new IllegalArgumentException("--audit-login " + auditLogin + " needs its password in the "
                        + "environment variable " + auditPasswordEnv);
            }
            List<Migrations.Migration> applied = Migrations.migrate(services.jdbcUrl, System.out::println);
            System.out.println(applied.isEmpty() ? "Schema is up to date." : "Applied " + applied.size() + " migration(s).");
            if (auditLogin != null) {
                try (var c = java.sql.DriverManager.getConnection(services.jdbcUrl)) {
                    boolean created = AuditWriterLogin.ensure(c, auditLogin, password.toCharArray());
                    System.out.println((created ? "Created" : "Updated") + " the audit job's login " + auditLogin
                            + " (member of " + AuditWriterLogin.WRITER_ROLE + ", password from " + auditPasswordEnv + ")");
                }
            }
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
