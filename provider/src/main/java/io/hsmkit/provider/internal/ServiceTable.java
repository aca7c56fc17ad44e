package io.hsmkit.provider.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The declarative list of every service HsmKit can offer: JCA type and name, implementation,
 * the mechanisms it needs (any one of them), aliases and attributes. The provider registers the
 * rows whose mechanisms the token has; nothing else decides what is registered.
 *
 * <p>Mistakes fail when the table is built, not on first use: a name given twice (as algorithm or
 * alias) throws {@link IllegalStateException}, as Bouncy Castle's {@code addAlgorithm} does.
 */
public final class ServiceTable {
  private final List<Row> rows = new ArrayList<>();
  private final Set<String> names = new HashSet<>();

  /** One service. */
  public static final class Row {
    private final String type;
    private final String algorithm;
    private final Class<?> implementation;
    private final Function<TokenContext, Object> factory;
    private long[] anyOf = new long[0];
    private long[] allOf = new long[0];
    private final List<String> aliases = new ArrayList<>();
    private final Map<String, String> attributes = new LinkedHashMap<>();
    private final ServiceTable table;

    private Row(ServiceTable table, String type, String algorithm, Class<?> implementation, Function<TokenContext, Object> factory) {
      this.table = table;
      this.type = type;
      this.algorithm = algorithm;
      this.implementation = implementation;
      this.factory = factory;
    }

    /** The token must offer at least one of these mechanisms (none given: always registered). */
    public Row anyOf(long... mechanisms) {
      this.anyOf = mechanisms.clone();
      return this;
    }

    /** The token must offer every one of these mechanisms too (an HMAC generator needs its HMAC, say). */
    public Row allOf(long... mechanisms) {
      this.allOf = mechanisms.clone();
      return this;
    }

    public Row aliases(String... names) {
      for (String a : names) {
        table.claim(type, a);
        aliases.add(a);
      }
      return this;
    }

    public Row attribute(String name, String value) {
      attributes.put(name, value);
      return this;
    }

    /**
     * The key classes the service accepts, so that JCA's delayed provider selection sends HsmKit
     * keys here and software keys to the JDK's providers.
     */
    public Row keyClasses(Class<?>... classes) {
      StringBuilder b = new StringBuilder();
      for (Class<?> c : classes) {
        if (b.length() > 0) {
          b.append('|');
        }
        b.append(c.getName());
      }
      return attribute("SupportedKeyClasses", b.toString());
    }

    public String type() {
      return type;
    }

    public String algorithm() {
      return algorithm;
    }

    public String className() {
      return implementation.getName();
    }

    public List<String> aliases() {
      return Collections.unmodifiableList(aliases);
    }

    public Map<String, String> attributes() {
      return Collections.unmodifiableMap(attributes);
    }

    public Object newInstance(TokenContext token) {
      return factory.apply(token);
    }

    /** Whether the token has what this service needs. */
    public boolean supportedBy(TokenContext token) {
      for (long m : allOf) {
        if (!token.has(m)) {
          return false;
        }
      }
      if (anyOf.length == 0) {
        return true;
      }
      for (long m : anyOf) {
        if (token.has(m)) {
          return true;
        }
      }
      return false;
    }
  }

  private void claim(String type, String name) {
    String key = type + "." + name.toUpperCase(java.util.Locale.ROOT);
    if (!names.add(key)) {
      throw new IllegalStateException("duplicate service name " + key);
    }
  }

  /** Adds a service; configure it through the returned row. */
  public <T> Row add(String type, String algorithm, Class<T> implementation, Function<TokenContext, ? extends T> factory) {
    claim(type, algorithm);
    Row r = new Row(this, type, algorithm, implementation, factory::apply);
    rows.add(r);
    return r;
  }

  public List<Row> rows() {
    return Collections.unmodifiableList(rows);
  }
}
