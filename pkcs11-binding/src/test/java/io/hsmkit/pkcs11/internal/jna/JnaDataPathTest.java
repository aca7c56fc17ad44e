package io.hsmkit.pkcs11.internal.jna;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link DataPathContract} with the JNI fast path turned off ({@code -Dhsmkit.jni=false}): the JNA
 * path that other platforms, and a failed load, fall back to. Surefire runs each test class in its
 * own JVM, and this constructor runs before the token is opened (per-class lifecycle), so the
 * property is set before {@link JniCalls} is loaded.
 */
class JnaDataPathTest extends DataPathContract {
  JnaDataPathTest() {
    System.setProperty("hsmkit.jni", "false");
  }

  @Override
  String name() {
    return "JnaDataPathTest";
  }

  @Override
  void checkPath(String fastPath) {
    assertThat(fastPath).isEqualTo("jna (turned off by -Dhsmkit.jni=false)");
  }
}
