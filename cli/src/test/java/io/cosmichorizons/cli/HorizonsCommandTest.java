package io.cosmichorizons.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cosmichorizons.generator.GeneratorConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class HorizonsCommandTest {

    @Test
    void helpListsEverySubcommandWithOneLineEach() {
        StringWriter out = new StringWriter();
        CommandLine cl = Horizons.commandLine();
        cl.setOut(new PrintWriter(out));
        assertEquals(0, cl.execute("--help"));
        for (String sub : new String[] {"demo", "generate", "topics", "db", "dlq", "jobs"}) {
            assertTrue(out.toString().contains("  " + sub + " "), sub + " missing in:\n" + out);
        }
    }

    @Test
    void unknownOptionsAreReportedNotIgnored() {
        StringWriter err = new StringWriter();
        CommandLine cl = Horizons.commandLine();
        cl.setErr(new PrintWriter(err));
        assertNotEquals(0, cl.execute("generate", "--jobz", "5"));
        assertTrue(err.toString().contains("--jobz"), err.toString());
    }

    @Test
    void injectionSpecIsParsed() {
        GeneratorConfig.Injection i = GenerateCommand.parseInjection("duplicates=0.01, out-of-order=0.02,malformed=0.005");
        assertEquals(0.01, i.duplicates());
        assertEquals(0.02, i.outOfOrder());
        assertEquals(0.005, i.malformed());
        assertThrows(IllegalArgumentException.class, () -> GenerateCommand.parseInjection("typos=0.1"));
    }

    @Test
    void jobsCommandDocumentsEveryOption() {
        StringWriter out = new StringWriter();
        CommandLine cl = Horizons.commandLine();
        cl.setOut(new PrintWriter(out));
        java.io.PrintStream original = System.out;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(captured, true));
        try {
            assertEquals(0, cl.execute("jobs", "lifecycle"));
        } finally {
            System.setOut(original);
        }
        String text = captured.toString();
        assertTrue(text.contains("--lifecycle.reorder-timeout"), text);
        assertTrue(text.contains("--kafka.bootstrap-servers"), text);
    }
}
