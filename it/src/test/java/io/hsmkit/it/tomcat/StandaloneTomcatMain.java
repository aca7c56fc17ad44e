package io.hsmkit.it.tomcat;

import io.hsmkit.provider.HsmKitProvider;
import java.security.Provider;
import java.security.Security;
import java.util.Arrays;
import org.apache.catalina.Service;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Catalina;

/**
 * What {@code catalina.sh run} does, minus its class loaders: reads {@code
 * $CATALINA_BASE/conf/server.xml} with Catalina's digester and starts the server. Run in a child
 * JVM by {@link TomcatStandaloneTest} with {@code -Dcatalina.base}, {@code
 * -Djava.security.properties} naming HsmKit, and a class path of Tomcat, the provider's
 * self-contained jar and this class only (so it must use nothing else of the test class path).
 *
 * <p>Prints {@code HSMKIT-PROVIDER <position> <name>}, then {@code HSMKIT-PORT <port>} once the
 * HTTPS connector listens (or {@code HSMKIT-FAILED <why>} and exits 1); stops when stdin closes,
 * printing {@code HSMKIT-POOL <stats>}.
 */
public final class StandaloneTomcatMain {
  private StandaloneTomcatMain() {}

  public static void main(String[] args) throws Exception {
    Catalina catalina = new Catalina();
    catalina.setAwait(false);
    catalina.setUseShutdownHook(false);
    catalina.load();
    catalina.start();

    Provider p = Security.getProvider("HsmKit");
    System.out.println("HSMKIT-PROVIDER " + (Arrays.asList(Security.getProviders()).indexOf(p) + 1) + " " + p);
    Connector https = null;
    if (catalina.getServer() != null) {
      for (Service s : catalina.getServer().findServices()) {
        for (Connector c : s.findConnectors()) {
          if (c.getSecure()) {
            https = c;
          }
        }
      }
    }
    if (https == null || !https.getState().isAvailable() || https.getLocalPort() <= 0) {
      System.out.println("HSMKIT-FAILED the HTTPS connector did not start" + (https == null ? "" : " (state " + https.getState() + ")"));
      System.out.flush();
      System.exit(1);
    }
    System.out.println("HSMKIT-PORT " + https.getLocalPort());
    System.out.flush();

    while (System.in.read() != -1) {
      // runs until the test closes our stdin
    }
    catalina.stop();
    if (p instanceof HsmKitProvider h) {
      System.out.println("HSMKIT-POOL " + h.tokenContext().pool().stats());
    }
    System.out.flush();
    System.exit(0);
  }
}
