package io.hsmkit.kms.cks;

/**
 * DescribeCustomKeyStores' request: at most one of {@code customKeyStoreId} and
 * {@code customKeyStoreName} (neither lists every store, oldest first); {@code limit} 1 to 1000
 * (null: 1000); {@code marker} the {@code nextMarker} of the previous page.
 */
public record DescribeCustomKeyStoresRequest(String customKeyStoreId, String customKeyStoreName, Integer limit, String marker) {
  /** Every store, first page. */
  public static DescribeCustomKeyStoresRequest all() {
    return new DescribeCustomKeyStoresRequest(null, null, null, null);
  }

  public static DescribeCustomKeyStoresRequest byId(String id) {
    return new DescribeCustomKeyStoresRequest(id, null, null, null);
  }

  public static DescribeCustomKeyStoresRequest byName(String name) {
    return new DescribeCustomKeyStoresRequest(null, name, null, null);
  }
}
