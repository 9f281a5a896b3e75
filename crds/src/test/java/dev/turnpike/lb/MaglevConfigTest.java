package dev.turnpike.lb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.api.v1alpha1.MaglevParameters;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.FieldSource;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class MaglevConfigTest {

  static final List<Integer> ACCEPTED = MaglevConfig.TABLE_SIZES;

  @ParameterizedTest
  @FieldSource("ACCEPTED")
  void acceptsEveryListedTableSize(int size) {
    assertTrue(MaglevConfig.isValidTableSize(size));
    assertEquals(size, new MaglevConfig(size, 0).tableSize());
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -1, 1, 4092, 4094, 65536, 65537, 131072, Integer.MAX_VALUE})
  void rejectsOtherTableSizesListingTheAcceptedOnes(int size) {
    assertEquals(false, MaglevConfig.isValidTableSize(size));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new MaglevConfig(size, 0));
    assertTrue(e.getMessage().contains(String.valueOf(size)), e.getMessage());
    assertTrue(
        e.getMessage().contains("251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071"),
        e.getMessage());
  }

  @Test
  void defaultsAreTheKernelIpvsSizeAndTheDocumentedSeed() {
    assertEquals(4093, MaglevConfig.DEFAULT_TABLE_SIZE);
    assertEquals(new MaglevConfig(4093, MaglevConfig.DEFAULT_SEED), MaglevConfig.DEFAULT);
    assertEquals("5475726e70696b65", MaglevConfig.DEFAULT.seedHex());
  }

  @ParameterizedTest
  @CsvSource({
    "0000000000000000, 0",
    "0000000000000001, 1",
    "00000000ffffffff, 4294967295",
    "7fffffffffffffff, 9223372036854775807",
    "8000000000000000, -9223372036854775808",
    "ffffffffffffffff, -1",
    "5475726e70696b65, 6085896290119019365",
  })
  void parsesSixteenLowerCaseHexDigitsAndPrintsThemBack(String hex, long seed) {
    assertEquals(seed, MaglevConfig.parseSeed(hex));
    assertEquals(hex, new MaglevConfig(251, seed).seedHex());
  }

  @ParameterizedTest
  @NullSource
  @ValueSource(
      strings = {
        "",
        "0",
        "000000000000000", // 15 digits
        "00000000000000000", // 17 digits
        "5475726E70696B65", // upper case
        "0x5475726e70696b6",
        " 5475726e70696b65",
        "5475726e70696b6g",
        "-000000000000001",
      })
  void rejectsMalformedSeedsNamingValueAndForm(String hex) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> MaglevConfig.parseSeed(hex));
    assertTrue(e.getMessage().contains(String.valueOf(hex)), e.getMessage());
    assertTrue(e.getMessage().contains("16 lower-case hex digits"), e.getMessage());
  }

  @Test
  void convertsToAndFromTheApiParameters() {
    MaglevConfig config = new MaglevConfig(65521, 0x00ff00ff00ff00ffL);
    MaglevParameters parameters = config.toParameters();
    assertEquals(new MaglevParameters(65521, "00ff00ff00ff00ff"), parameters);
    assertEquals(config, MaglevConfig.of(parameters));
    assertThrows(
        IllegalArgumentException.class,
        () -> MaglevConfig.of(new MaglevParameters(null, "00ff00ff00ff00ff")));
    assertThrows(
        IllegalArgumentException.class,
        () -> MaglevConfig.of(new MaglevParameters(4093, "FF")));
  }
}
