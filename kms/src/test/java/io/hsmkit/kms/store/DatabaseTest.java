package io.hsmkit.kms.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.kms.testing.TestDatabases;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class DatabaseTest {
  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void migratesAndCommits(TestDatabases.Kind kind) {
    Database db = TestDatabases.fresh(kind);
    assertThat(db.isPostgres()).isEqualTo(kind == TestDatabases.Kind.POSTGRES);
    String v = db.inTransaction(c -> {
      try (var st = c.prepareStatement("SELECT info_value FROM kms_schema_info WHERE info_name = 'created_by'");
           var rs = st.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    });
    assertThat(v).isEqualTo("hsmkit");
  }
}
