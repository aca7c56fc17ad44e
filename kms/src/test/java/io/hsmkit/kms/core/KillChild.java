package io.hsmkit.kms.core;

import io.hsmkit.kms.Caller;
import io.hsmkit.kms.KmsService;
import io.hsmkit.kms.access.AccessControl;
import io.hsmkit.kms.api.*;
import io.hsmkit.kms.backing.token.DefaultKeyBackings;
import io.hsmkit.kms.backing.token.TokenKeyBacking;
import io.hsmkit.kms.store.Database;
import io.hsmkit.provider.HsmKitProvider;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * The child JVM of {@link KillNineTest}: works in a loop on a shared token and database until it is
 * killed with SIGKILL, printing a line after each call that returned (so the parent knows what
 * was acknowledged). Args: mode (create | purge | rotate), JDBC URL, DB user, provider config, account.
 */
public final class KillChild {
  public static void main(String[] args) throws Exception {
    String mode = args[0];
    Database db = Database.open(args[1], args[2], null);
    HsmKitProvider provider = new HsmKitProvider(args[3]);
    // purge mode runs 60 days ahead, so every key scheduled for deletion is due at once.
    Clock clock = "purge".equals(mode) ? Clock.offset(Clock.systemUTC(), Duration.ofDays(60)) : Clock.systemUTC();
    Clock creationClock = Clock.fixed(Instant.now(), ZoneOffset.UTC);
    KmsService kms = new KmsService(db, new DefaultKeyBackings(new TokenKeyBacking(provider)), AccessControl.ALLOW_ALL,
        "purge".equals(mode) ? clock : creationClock, "eu-west-1", args[4]);
    Caller caller = Caller.of("arn:aws:iam::" + args[4] + ":root", args[4], null);
    CreateKeyRequest sym = new CreateKeyRequest(null, "kill -9", null, null, null, null, null, null, null, null);
    switch (mode) {
      case "create" -> {
        System.out.println("READY");
        while (true) {
          String id = kms.createKey(caller, sym).keyMetadata().keyId();
          System.out.println("CREATED " + id);
        }
      }
      case "purge" -> {
        // The keys were made and scheduled by an earlier child (mode "prepare").
        System.out.println("READY");
        List<String> done = kms.purgeExpired();
        System.out.println("PURGED " + done.size());
        Thread.sleep(60_000);
      }
      case "prepare" -> {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
          String id = kms.createKey(caller, sym).keyMetadata().keyId();
          kms.scheduleKeyDeletion(caller, new ScheduleKeyDeletionRequest(id, 7));
          ids.add(id);
        }
        for (int i = 0; i < 3; i++) {
          String id = kms.createKey(caller, sym).keyMetadata().keyId();
          System.out.println("KEEP " + id);
        }
        System.out.println("PREPARED " + ids.size());
      }
      case "rotate" -> {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
          ids.add(kms.createKey(caller, sym).keyMetadata().keyId());
        }
        System.out.println("READY");
        for (int round = 0; round < 10; round++) {
          for (String id : ids) {
            kms.rotateKeyOnDemand(caller, new RotateKeyOnDemandRequest(id));
            System.out.println("ROTATED " + id);
          }
        }
        System.out.println("DONE");
        Thread.sleep(60_000);
      }
      default -> throw new IllegalArgumentException(mode);
    }
  }
}
