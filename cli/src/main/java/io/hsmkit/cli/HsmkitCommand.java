package io.hsmkit.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code hsmkit}: the operator command. It only dispatches to its subcommands; without one it
 * prints its usage and exits with {@link ExitCode#USAGE}.
 *
 * <p>Errors become one line on stderr ({@code hsmkit: error: ...}) and exit code 1; {@code
 * --verbose}, accepted on every subcommand, adds the stack trace.
 */
@Command(
    name = "hsmkit",
    mixinStandardHelpOptions = true,
    versionProvider = HsmkitCommand.VersionProvider.class,
    description = {
      "hsmkit: a PKCS#11 client for the JVM that keeps keys in an HSM.",
      "./hsmkit at the project root sets up an embedded SoftHSM2 token on first use."
    },
    subcommands = {ServeCommand.class, InfoCommand.class, TokenCommand.class, KeysCommand.class, CertsCommand.class, JarCommand.class, QuorumCommand.class, ClusterCommand.class, CommandLine.HelpCommand.class},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:success",
      "1:error (one line on stderr; --verbose adds the stack trace)",
      "2:invalid command line, or no subcommand given"
    })
public final class HsmkitCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--verbose",
      scope = ScopeType.INHERIT,
      description = "On an error, print the stack trace as well as the one-line message.")
  boolean verbose;

  @Override
  public Integer call() {
    CommandLine cl = spec.commandLine();
    cl.usage(cl.getErr());
    return ExitCode.USAGE;
  }

  /** The command line with hsmkit's error handling; tests run commands through this. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new HsmkitCommand());
    cl.setExecutionExceptionHandler(new ErrorHandler());
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    return cl;
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** {@code hsmkit: error: <message>}, the stack trace only with --verbose. */
  static final class ErrorHandler implements IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception ex, CommandLine cl, ParseResult parsed) {
      PrintWriter err = cl.getErr();
      err.println("hsmkit: error: " + oneLine(ex));
      if (verbose(parsed)) {
        ex.printStackTrace(err);
      }
      err.flush();
      return ExitCode.SOFTWARE;
    }

    private static boolean verbose(ParseResult parsed) {
      for (ParseResult p = parsed; p != null; p = p.subcommand()) {
        if (p.hasMatchedOption("--verbose")) {
          return true;
        }
      }
      return false;
    }
  }

  /** The message of {@code t} (or its type when it has none) on one line. */
  static String oneLine(Throwable t) {
    String m = t.getMessage();
    if (m == null || m.isBlank()) {
      m = t.getClass().getSimpleName();
    }
    return m.strip().replaceAll("\\s*\\R\\s*", "; ");
  }

  /** The project version, from version.properties (filtered by Maven). */
  static String version() {
    try (InputStream in = HsmkitCommand.class.getResourceAsStream("version.properties")) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        String v = p.getProperty("version");
        if (v != null && !v.startsWith("${")) {
          return v;
        }
      }
    } catch (IOException e) {
      // fall through to "unknown"
    }
    return "unknown";
  }

  static final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {
        "hsmkit " + version(),
        "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + "), "
            + System.getProperty("os.name") + " " + System.getProperty("os.arch")
      };
    }
  }
}
