package io.cosmichorizons.cluster.sql;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.connector.jdbc.postgres.database.catalog.PostgresCatalog;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.catalog.ObjectPath;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.LocalZonedTimestampType;
import org.apache.flink.table.types.logical.LogicalTypeRoot;

/**
 * flink-connector-jdbc-postgres's {@link PostgresCatalog} (4.0.0-2.0), with two gaps closed for this platform:
 * <ul>
 *   <li>it lists base tables only, so the analytics <em>views</em> were invisible to Flink SQL: this lists views too;</li>
 *   <li>it maps {@code timestamptz} to {@code TIMESTAMP_LTZ}, which the connector's row converter then rejects
 *       ("Unsupported type: TIMESTAMP_LTZ(6)"), making every table with a timestamptz column unreadable: this maps it
 *       to {@code TIMESTAMP} (the instant shown in the JVM's time zone; {@code bin/horizons sql} runs in UTC).</li>
 * </ul>
 * Everything else (type mapping, table paths {@code schema.table} with {@code public} as the default schema, primary
 * keys, the JDBC connector behind each table) is the upstream catalog's.
 */
public final class HorizonsPostgresCatalog extends PostgresCatalog {

    public HorizonsPostgresCatalog(String catalogName, String defaultDatabase, String username, String password,
            String baseUrl) {
        super(HorizonsPostgresCatalog.class.getClassLoader(), catalogName, defaultDatabase, username, password, baseUrl);
    }

    @Override
    protected List<String> getPureTables(Connection conn, List<String> schemas) throws SQLException {
        List<String> tables = new ArrayList<>();
        try (PreparedStatement ps = conn.prepareStatement("SELECT table_name FROM information_schema.tables "
                + "WHERE table_type IN ('BASE TABLE', 'VIEW') AND table_schema = ? ORDER BY table_name")) {
            for (String schema : schemas) {
                ps.setString(1, schema);
                try (var rs = ps.executeQuery()) {
                    while (rs.next()) {
                        tables.add(schema + "." + rs.getString(1));
                    }
                }
            }
        }
        return tables;
    }

    @Override
    protected DataType fromJDBCType(ObjectPath tablePath, ResultSetMetaData metadata, int colIndex) throws SQLException {
        DataType type = super.fromJDBCType(tablePath, metadata, colIndex);
        if (type.getLogicalType().getTypeRoot() == LogicalTypeRoot.TIMESTAMP_WITH_LOCAL_TIME_ZONE) {
            int precision = ((LocalZonedTimestampType) type.getLogicalType()).getPrecision();
            DataType timestamp = DataTypes.TIMESTAMP(precision);
            return type.getLogicalType().isNullable() ? timestamp : timestamp.notNull();
        }
        return type;
    }
}
