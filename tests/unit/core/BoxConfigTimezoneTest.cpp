// box.timezone: glibc reads a zone it cannot find as UTC without a word, so the box refuses
// to start on one, and says which file it looked for.
#include "server/BoxConfig.h"

#include "TempDir.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

using namespace klinikbox;

namespace {
std::string zoneRefusal(const std::string& zone) {
    try {
        (void)server::parseBoxConfig("box:\n  data_dir: /tmp/x\n  timezone: \"" + zone + "\"\n", "k.yaml", "/tmp");
    } catch (const server::ConfigInvalid& e) {
        return e.what();
    }
    return {};
}
}  // namespace

TEST(BoxConfigTimezone, AZoneThisMachineHasIsTaken) {
    for (const char* zone : {"Europe/Stockholm", "UTC", "Europe/Helsinki"}) {
        EXPECT_EQ(zoneRefusal(zone), "") << zone;
        EXPECT_EQ(server::parseBoxConfig(std::string("box:\n  data_dir: /tmp/x\n  timezone: ") + zone + "\n", "k.yaml", "/tmp").timezone, zone);
    }
}

TEST(BoxConfigTimezone, AMisspeltOrUnsafeZoneIsRefusedWithWhatWasWrong) {
    const auto misspelt = zoneRefusal("Europe/Stockhlm");
    EXPECT_NE(misspelt.find("k.yaml: box.timezone: 'Europe/Stockhlm' is not a time zone this machine knows"), std::string::npos) << misspelt;
    EXPECT_NE(misspelt.find("tzdata"), std::string::npos) << misspelt;
    for (const char* bad : {"", "/etc/passwd", "../../etc/passwd", "Europe/../UTC", "Europe/Stockholm ", "CET;rm"})
        EXPECT_NE(zoneRefusal(bad).find("box.timezone"), std::string::npos) << bad;
}

TEST(BoxConfigTimezone, TheZoneFilesAreLookedForWhereTZDIRSays) {
    kbtest::TempDir dir;
    std::filesystem::create_directories(dir.file("Europe"));
    std::ofstream(dir.file("Europe/Testholm"), std::ios::binary) << "TZif2 and the rest of a zone file";
    std::ofstream(dir.file("Europe/Notazone"), std::ios::binary) << "# a table, not a zone file";
    const char* old = std::getenv("TZDIR");
    const std::string saved = old ? old : "";
    ::setenv("TZDIR", dir.path().c_str(), 1);
    const auto found = zoneRefusal("Europe/Testholm"), missing = zoneRefusal("Europe/Stockholm"),
               notZone = zoneRefusal("Europe/Notazone");
    if (old) ::setenv("TZDIR", saved.c_str(), 1);
    else ::unsetenv("TZDIR");
    EXPECT_EQ(found, "");
    EXPECT_NE(missing.find(dir.path()), std::string::npos) << missing;
    EXPECT_NE(notZone.find("not a time zone this machine knows"), std::string::npos) << notZone;
}
