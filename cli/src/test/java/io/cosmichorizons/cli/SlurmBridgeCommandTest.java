package io.cosmichorizons.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class SlurmBridgeCommandTest {

    @Test
    void helpDocumentsTheOptions() {
        StringWriter out = new StringWriter();
        CommandLine cl = Horizons.commandLine();
        cl.setOut(new PrintWriter(out));
        assertEquals(0, cl.execute("slurm-bridge", "--help"));
        for (String option : new String[] {"--cluster", "--poll", "--state-file", "--spool", "--bootstrap-servers",
                "--topic-prefix", "--max-backoff"}) {
            assertTrue(out.toString().contains(option), option + " missing in:\n" + out);
        }
    }

    @Test
    void theClusterNameIsRequired() {
        StringWriter err = new StringWriter();
        CommandLine cl = Horizons.commandLine();
        cl.setErr(new PrintWriter(err));
        assertNotEquals(0, cl.execute("slurm-bridge", "--poll", "1s"));
        assertTrue(err.toString().contains("--cluster"), err.toString());
    }
}
