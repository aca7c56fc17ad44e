package io.hsmkit.pkcs11.internal.jna;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link DataPathContract} on the JNI fast path, which must have loaded: no fallback is accepted here. */
class JniDataPathTest extends DataPathContract {
  @Override
  String name() {
    return "JniDataPathTest";
  }

  @Override
  void checkPath(String fastPath) {
    assertThat(fastPath)
        .as("the JNI fast path did not load (%s); the binding's build compiles it with gcc: run bash softhsm-config/install.sh", JniCalls.why())
        .isEqualTo("jni");
  }
}
