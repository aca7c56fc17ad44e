package io.hsmkit.quorum;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ActionAndTokenTest {
    @Test
    void canonicalEncodingIsUnambiguous() {
        Action a = Action.of(Service.USER, "op", Map.of("ab", "c"));
        Action b = Action.of(Service.USER, "op", Map.of("a", "bc"));
        assertThat(a.canonicalBytes()).isNotEqualTo(b.canonicalBytes());
        assertThat(a.digest()).isNotEqualTo(b.digest());
        assertThat(Action.of(Service.USER, "op", Map.of("a", "")).digest())
                .isNotEqualTo(Action.of(Service.USER, "op", Map.of()).digest());
    }

    @Test
    void argumentOrderDoesNotMatter() {
        Map<String, String> m1 = new LinkedHashMap<>();
        m1.put("z", "1");
        m1.put("a", "2");
        Map<String, String> m2 = new LinkedHashMap<>();
        m2.put("a", "2");
        m2.put("z", "1");
        assertThat(Action.of(Service.TOKEN, "x", m1).digest()).isEqualTo(Action.of(Service.TOKEN, "x", m2).digest());
        assertThat(Action.of(Service.TOKEN, "x", m1).arguments().firstKey()).isEqualTo("a");
    }

    private static ApprovalToken token() {
        return ApprovalToken.create(Action.of(Service.USER, "create-user", Map.of("name", "bob")), "alice",
                Instant.parse("2026-01-01T00:00:00.123Z"), Duration.ofSeconds(600), new SecureRandom());
    }

    @Test
    void tokenBytesAndTextRoundTrip() {
        ApprovalToken t = token();
        assertThat(t.created()).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
        assertThat(ApprovalToken.fromBytes(t.toBytes())).isEqualTo(t);
        String text = t.toText();
        assertThat(text).startsWith("-----BEGIN HSMKIT QUORUM TOKEN-----\nService: user\nOperation: create-user\n");
        ApprovalToken back = ApprovalToken.parseText(text);
        assertThat(back.toBytes()).isEqualTo(t.toBytes());
        assertThat(back.nonce()).hasSize(16).isEqualTo(t.nonce());
    }

    @Test
    void misleadingHeaderIsRefused() {
        String text = token().toText().replace("Operation: create-user", "Operation: list-users");
        assertThatThrownBy(() -> ApprovalToken.parseText(text)).hasMessageContaining("signed bytes say 'create-user'");
    }

    @Test
    void trailingOrTruncatedBytesAreRefused() {
        byte[] b = token().toBytes();
        byte[] longer = java.util.Arrays.copyOf(b, b.length + 1);
        assertThatThrownBy(() -> ApprovalToken.fromBytes(longer)).hasMessageContaining("trailing");
        assertThatThrownBy(() -> ApprovalToken.fromBytes(java.util.Arrays.copyOf(b, b.length - 1))).hasMessageContaining("truncated");
    }
}
