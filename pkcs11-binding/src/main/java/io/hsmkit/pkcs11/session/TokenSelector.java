package io.hsmkit.pkcs11.session;

import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.Slot;
import java.util.Optional;

/**
 * How a pool finds its token, again after every restart: by label (slot ids may change when a
 * token comes back, as SoftHSM2's do), by slot id, or by index in the list of slots with a token.
 */
public sealed interface TokenSelector {
  /** The slot now holding the token, if present. */
  Optional<Slot> find(Pkcs11Module module);

  static TokenSelector label(String label) {
    return new Label(label);
  }

  static TokenSelector slotId(long id) {
    return new SlotId(id);
  }

  static TokenSelector slotListIndex(int index) {
    return new Index(index);
  }

  record Label(String label) implements TokenSelector {
    @Override
    public Optional<Slot> find(Pkcs11Module module) {
      return module.slotByTokenLabel(label);
    }
  }

  record SlotId(long id) implements TokenSelector {
    @Override
    public Optional<Slot> find(Pkcs11Module module) {
      for (Slot s : module.slots(true)) {
        if (s.id() == id) {
          return Optional.of(s);
        }
      }
      return Optional.empty();
    }
  }

  record Index(int index) implements TokenSelector {
    @Override
    public Optional<Slot> find(Pkcs11Module module) {
      var slots = module.slots(true);
      return index >= 0 && index < slots.size() ? Optional.of(slots.get(index)) : Optional.empty();
    }
  }
}
