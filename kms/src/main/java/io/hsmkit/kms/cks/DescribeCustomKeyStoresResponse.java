package io.hsmkit.kms.cks;

import java.util.List;

/** DescribeCustomKeyStores' response: one page, {@code nextMarker} set when {@code truncated}. */
public record DescribeCustomKeyStoresResponse(List<CustomKeyStoresListEntry> customKeyStores, String nextMarker, boolean truncated) {
  public DescribeCustomKeyStoresResponse {
    customKeyStores = List.copyOf(customKeyStores);
  }
}
