package io.cosmichorizons.dashboard;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.UnexpectedAlertBehaviour;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Debian's headless Chromium driven by Debian's chromedriver (Selenium 4; no Selenium Manager, no download). Missing
 * binaries fail the test with the install command: these tests never skip. {@code .ci/run} installs both packages.
 */
final class Chromium implements AutoCloseable {
    static final String INSTALL = "apt-get update && apt-get install -y chromium chromium-driver";

    final ChromeDriver driver;
    private final Path profile;

    private Chromium(ChromeDriver driver, Path profile) {
        this.driver = driver;
        this.profile = profile;
    }

    static Chromium start() throws IOException {
        File browser = binary("HORIZONS_CHROMIUM", "/usr/bin/chromium");
        File chromedriver = binary("HORIZONS_CHROMEDRIVER", "/usr/bin/chromedriver");
        Path profile = Files.createTempDirectory("horizons-chromium-");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(browser);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--window-size=1400,1100", "--user-data-dir=" + profile);
        // An alert() must stay open so the test can see it, instead of being dismissed by the next command.
        options.setUnhandledPromptBehaviour(UnexpectedAlertBehaviour.IGNORE);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(chromedriver)
                .usingAnyFreePort().build();
        ChromeDriver driver = new ChromeDriver(service, options);
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(20));
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(10));
        return new Chromium(driver, profile);
    }

    private static File binary(String env, String fallback) {
        String configured = System.getenv(env);
        File f = new File(configured != null && !configured.isBlank() ? configured : fallback);
        if (!f.canExecute()) {
            throw new AssertionError(f + " is missing: the browser tests need Debian's chromium and chromium-driver ("
                    + INSTALL + "; .ci/run does this), or set " + env + ".");
        }
        return f;
    }

    /** Whether an alert/confirm/prompt dialog is open. */
    boolean dialogOpen() {
        try {
            driver.switchTo().alert();
            return true;
        } catch (NoAlertPresentException e) {
            return false;
        }
    }

    Object js(String script, Object... args) {
        return driver.executeScript(script, args);
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            try (Stream<Path> files = Files.walk(profile)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                // a temporary directory; nothing else to do
            }
        }
    }
}
