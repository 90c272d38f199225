#include <klinikbox/Personnummer.h>

#include <gtest/gtest.h>

#include <iterator>
#include <set>
#include <string>
#include <vector>

using namespace klinikbox;
using namespace std::chrono;

namespace {

constexpr year_month_day kToday{year{2026}, month{11}, day{22}};

// Appends the Luhn check digit to nine digits YYMMDDNNN (computed independently of the
// code under test, the way the Skatteverket leaflet describes it).
std::string withCheck(const std::string& nine) {
    int sum = 0;
    for (int i = 0; i < 9; ++i) {
        int p = (nine[static_cast<std::size_t>(i)] - '0') * ((i % 2 == 0) ? 2 : 1);
        sum += p > 9 ? p - 9 : p;
    }
    return nine + std::to_string((10 - sum % 10) % 10);
}

std::string wrongCheck(const std::string& nine) {
    std::string ok = withCheck(nine);
    ok.back() = static_cast<char>('0' + (ok.back() - '0' + 1) % 10);
    return ok;
}

PersonnummerError errorOf(std::string_view s, year_month_day today = kToday) {
    auto r = Personnummer::parse(s, today);
    EXPECT_TRUE(std::holds_alternative<PersonnummerError>(r)) << s << " was accepted";
    return std::holds_alternative<PersonnummerError>(r) ? std::get<PersonnummerError>(r)
                                                        : PersonnummerError::Empty;
}

Personnummer ok(std::string_view s, year_month_day today = kToday) {
    auto r = Personnummer::parse(s, today);
    if (auto* e = std::get_if<PersonnummerError>(&r)) {
        ADD_FAILURE() << s << " refused: " << toString(*e);
        return Personnummer::parseOrThrow("191212121212", kToday);
    }
    return std::get<Personnummer>(r);
}

struct Valid {
    std::string input;
    std::string twelve;
};

}  // namespace

TEST(Personnummer, OfficialTestNumberIsValidInEveryWrittenForm) {
    for (const char* s : {"191212121212", "19121212-1212", "121212+1212", " 121212+1212 "}) {
        EXPECT_EQ(ok(s).twelveDigits(), "191212121212") << s;
    }
    // Without '+', a 10-digit form means someone under 100: the same digits are a 2012 child.
    EXPECT_EQ(ok("121212-1212").twelveDigits(), "201212121212");
    EXPECT_EQ(ok("1212121212").twelveDigits(), "201212121212");
}

TEST(Personnummer, TableOfValidNumbersParsesToTheStoredForm) {
    const std::vector<Valid> table = {
        {withCheck("800101123"), "19" + withCheck("800101123")},
        {withCheck("000229123"), "20" + withCheck("000229123")},  // leap day 2000
        {"20" + withCheck("000229123"), "20" + withCheck("000229123")},
        {withCheck("261122123"), "20" + withCheck("261122123")},  // born today
        {withCheck("261123123"), "19" + withCheck("261123123")},  // tomorrow's date: a century ago
        {withCheck("991231987"), "19" + withCheck("991231987")},
        {"19" + withCheck("991231987"), "19" + withCheck("991231987")},
        {withCheck("050615001"), "20" + withCheck("050615001")},
        {withCheck("121272123"), "20" + withCheck("121272123")},  // samordningsnummer, day 12+60
        {withCheck("010161123"), "20" + withCheck("010161123")},  // samordningsnummer, day 1+60
        {withCheck("450131234").insert(6, "-"), "19" + withCheck("450131234")},
        {withCheck("200229123").insert(6, "+"),
         "19" + withCheck("200229123")},  // 1920 leap day, 100+
        {"19" + withCheck("200229123"), "19" + withCheck("200229123")},
        {withCheck("250101123").insert(6, "+"), "19" + withCheck("250101123")},  // 101 years old
        {"18" + withCheck("991231123"), "18" + withCheck("991231123")},
    };
    for (const auto& v : table) EXPECT_EQ(ok(v.input).twelveDigits(), v.twelve) << v.input;
}

TEST(Personnummer, TableOfInvalidNumbersGivesThePreciseError) {
    const std::vector<std::pair<std::string, PersonnummerError>> table = {
        {"", PersonnummerError::Empty},
        {"   ", PersonnummerError::Empty},
        {"12121212121", PersonnummerError::WrongLength},
        {"1912121212121", PersonnummerError::WrongLength},
        {"121212-121", PersonnummerError::WrongLength},
        {"12121a-1212", PersonnummerError::InvalidCharacters},
        {"121212--1212", PersonnummerError::InvalidCharacters},
        {"1212-121212", PersonnummerError::InvalidCharacters},
        {"121212 1212", PersonnummerError::InvalidCharacters},
        {"121212_1212", PersonnummerError::InvalidCharacters},
        {wrongCheck("121212121"), PersonnummerError::InvalidChecksum},
        {"19" + wrongCheck("800101123"), PersonnummerError::InvalidChecksum},
        {withCheck("801301123"), PersonnummerError::InvalidDate},         // month 13
        {withCheck("800001123"), PersonnummerError::InvalidDate},         // month 00
        {withCheck("800100123"), PersonnummerError::InvalidDate},         // day 00
        {withCheck("800132123"), PersonnummerError::InvalidDate},         // day 32
        {withCheck("800431123"), PersonnummerError::InvalidDate},         // April 31
        {"19" + withCheck("000229123"), PersonnummerError::InvalidDate},  // 1900 is no leap year
        {withCheck("800192123"), PersonnummerError::InvalidDate},         // samordning day 32
        {"20" + withCheck("301010123"), PersonnummerError::FutureDate},
        {"20" + withCheck("261123123"), PersonnummerError::FutureDate},
        {"19" + withCheck("800101123").insert(6, "+"), PersonnummerError::SeparatorMisuse},
    };
    for (const auto& [input, err] : table) EXPECT_EQ(errorOf(input), err) << input;
}

TEST(Personnummer, PlusSeparatorMeansHundredOrOlder) {
    const auto young = ok(withCheck("200101123").insert(6, "-"));
    const auto old = ok(withCheck("200101123").insert(6, "+"));
    EXPECT_EQ(static_cast<int>(young.birthDate().year()), 2020);
    EXPECT_EQ(static_cast<int>(old.birthDate().year()), 1920);
}

TEST(Personnummer, CenturyIsChosenRelativeToToday) {
    const std::string nine = withCheck("261201123");
    EXPECT_EQ(static_cast<int>(ok(nine, kToday).birthDate().year()), 1926);
    const year_month_day later{year{2026}, month{12}, day{1}};
    EXPECT_EQ(static_cast<int>(ok(nine, later).birthDate().year()), 2026);
}

TEST(Personnummer, CoordinationNumberIsRecognisedWithItsRealBirthDate) {
    const auto p = ok("19" + withCheck("121272123"));
    EXPECT_TRUE(p.isCoordinationNumber());
    EXPECT_EQ(p.birthDate(), (year_month_day{year{1912}, month{12}, day{12}}));
    EXPECT_FALSE(ok("191212121212").isCoordinationNumber());
}

TEST(Personnummer, SecondToLastDigitGivesSex) {
    EXPECT_EQ(ok("191212121212").sex(), Sex::Male);  // 1 is odd
    EXPECT_EQ(ok(withCheck("800101124")).sex(), Sex::Female);
}

TEST(Personnummer, AgeCountsWholeYearsAndLeapDayBirthdaysTurnOnFirstOfMarch) {
    const auto p = ok("20" + withCheck("080229123"));
    EXPECT_EQ(p.ageOn({year{2026}, month{2}, day{28}}), 17);
    EXPECT_EQ(p.ageOn({year{2026}, month{3}, day{1}}), 18);
    EXPECT_EQ(p.ageOn({year{2028}, month{2}, day{29}}), 20);
    EXPECT_EQ(ok("191212121212").ageOn(kToday), 113);
}

TEST(Personnummer, DisplayAndMaskedForms) {
    const auto p = ok("121212+1212");
    EXPECT_EQ(p.formatted(), "19121212-1212");
    EXPECT_EQ(p.masked(), "19121212-****");
}

TEST(Personnummer, ParseOrThrowThrowsOnInvalidInput) {
    EXPECT_THROW((void)Personnummer::parseOrThrow("121212-1213", kToday), std::invalid_argument);
}

TEST(Personnummer, ErrorsHaveStableNamesAndSwedishDescriptions) {
    EXPECT_EQ(toString(PersonnummerError::InvalidChecksum), "invalid-checksum");
    EXPECT_NE(describeSv(PersonnummerError::InvalidChecksum).find("Kontrollsiffran"),
              std::string_view::npos);
}

TEST(MaskPersonnummer, MasksEveryWrittenFormInFreeText) {
    EXPECT_EQ(maskPersonnummerInText("GET /api/v1/x/191212121212/bookings"),
              "GET /api/v1/x/19121212****/bookings");
    EXPECT_EQ(maskPersonnummerInText("pnr=19121212-1212&x=1"), "pnr=19121212-****&x=1");
    EXPECT_EQ(maskPersonnummerInText("patient 121212-1212 arrived"), "patient 121212-**** arrived");
    EXPECT_EQ(maskPersonnummerInText("old 121212+1212."), "old 121212+****.");
    EXPECT_EQ(maskPersonnummerInText("1212121212"), "121212****");
    // What people type or paste, which the box refuses but its access log still writes: a
    // space, a no-break space, an en dash, a non-breaking hyphen, a minus sign; raw or
    // percent-encoded in a path.
    EXPECT_EQ(maskPersonnummerInText("GET /api/v1/x/19121212%201212/y"), "GET /api/v1/x/19121212%20****/y");
    EXPECT_EQ(maskPersonnummerInText("patient 19121212 1212"), "patient 19121212 ****");
    EXPECT_EQ(maskPersonnummerInText("GET /x/19121212%E2%80%931212/y"), "GET /x/19121212%E2%80%93****/y");
    EXPECT_EQ(maskPersonnummerInText("GET /x/19121212%E2%80%911212/y"), "GET /x/19121212%E2%80%91****/y");
    EXPECT_EQ(maskPersonnummerInText("pnr 121212\u20131212"), "pnr 121212\u2013****");
    EXPECT_EQ(maskPersonnummerInText("pnr 121212\u22121212"), "pnr 121212\u2212****");
    EXPECT_EQ(maskPersonnummerInText("pnr 121212\u00a01212"), "pnr 121212\u00a0****");
}

TEST(MaskPersonnummer, LeavesOtherNumbersAlone) {
    for (const char* s : {"order 12345", "ts 20261122134501", "id 1234567890123", "2026-11-22",
                          "year 2026 x", "a 19121212-12345 b", "8443"}) {
        EXPECT_EQ(maskPersonnummerInText(s), s);
    }
}

TEST(Personnummer, TwelveDigitPlusIsAcceptedFromTheHundredthBirthday) {
    // kToday is 2026-11-22: someone born 1926-11-22 turns 100 today, 1926-11-23 tomorrow.
    const std::string today100 = "19" + withCheck("261122123");
    const std::string tomorrow100 = "19" + withCheck("261123123");
    EXPECT_EQ(ok(std::string(today100).insert(8, "+")).twelveDigits(), today100);
    EXPECT_EQ(errorOf(std::string(tomorrow100).insert(8, "+")), PersonnummerError::SeparatorMisuse);
    // A hyphen in a 12-digit form is common even for centenarians and is accepted.
    EXPECT_EQ(ok(std::string(today100).insert(8, "-")).twelveDigits(), today100);
    EXPECT_EQ(ok(std::string(tomorrow100).insert(8, "-")).twelveDigits(), tomorrow100);
}

TEST(Personnummer, TenDigitPlusMeansTheCenturyBeforeTheUnderHundredChoice) {
    // 261122: under 100 it is today's newborn (2026), so '+' makes it 1926 (100 today).
    EXPECT_EQ(static_cast<int>(ok(withCheck("261122123").insert(6, "+")).birthDate().year()), 1926);
    // 261123: under 100 it is 1926 (99 today), so '+' makes it 1826.
    EXPECT_EQ(static_cast<int>(ok(withCheck("261123123").insert(6, "+")).birthDate().year()), 1826);
    EXPECT_EQ(static_cast<int>(ok(withCheck("261123123").insert(6, "-")).birthDate().year()), 1926);
}

TEST(Personnummer, CenturyBoundaryMovesWithTheReferenceDate) {
    const std::string nine = withCheck("000101123");
    EXPECT_EQ(static_cast<int>(ok(nine, {year{1999}, month{12}, day{31}}).birthDate().year()),
              1900);
    EXPECT_EQ(static_cast<int>(ok(nine, {year{2000}, month{1}, day{1}}).birthDate().year()), 2000);
    EXPECT_EQ(static_cast<int>(
                  ok(withCheck("991231123"), {year{2000}, month{1}, day{1}}).birthDate().year()),
              1999);
    // 19000229 never existed and 18000229 neither: with today 2000-01-01 the 10-digit 000229
    // resolves to 1900, which is no leap year.
    EXPECT_EQ(errorOf(withCheck("000229123"), {year{2000}, month{1}, day{1}}),
              PersonnummerError::InvalidDate);
}

TEST(Personnummer, CoordinationNumberDaysRunFromSixtyOneToNinetyOne) {
    EXPECT_TRUE(ok(withCheck("800161123")).isCoordinationNumber());
    EXPECT_EQ(ok(withCheck("800191123")).birthDate(),
              (year_month_day{year{1980}, month{1}, day{31}}));
    EXPECT_EQ(errorOf(withCheck("800160123")), PersonnummerError::InvalidDate);  // day 0 + 60
    EXPECT_EQ(errorOf(withCheck("800491123")), PersonnummerError::InvalidDate);  // April 31 + 60
    EXPECT_EQ(errorOf(withCheck("810289123")), PersonnummerError::InvalidDate);  // 29 Feb 1981 + 60
    EXPECT_EQ(ok(withCheck("800289123")).birthDate(),
              (year_month_day{year{1980}, month{2}, day{29}}));
    EXPECT_EQ(errorOf(wrongCheck("800172123")), PersonnummerError::InvalidChecksum);
    EXPECT_EQ(errorOf("20" + withCheck("301272123")), PersonnummerError::FutureDate);
    EXPECT_EQ(ok(withCheck("121272123").insert(6, "+")).twelveDigits(),
              "19" + withCheck("121272123"));
}

TEST(Personnummer, CoordinationNumberKeepsItsDayInEveryForm) {
    const auto p = ok("19" + withCheck("121272123"));
    EXPECT_EQ(p.twelveDigits().substr(0, 8), "19121272");
    EXPECT_EQ(p.formatted().substr(0, 9), "19121272-");
    EXPECT_EQ(p.masked(), "19121272-****");
    EXPECT_EQ(p.ageOn(kToday), 113);
}

TEST(Personnummer, SurroundingWhitespaceOfAnyKindIsTrimmed) {
    for (const char* s : {"\n191212121212\r\n", "\t121212+1212 ", "  19121212-1212\t"}) {
        EXPECT_EQ(ok(s).twelveDigits(), "191212121212") << s;
    }
    EXPECT_EQ(errorOf("\t \n"), PersonnummerError::Empty);
}

TEST(Personnummer, MoreMalformedInputsGiveThePreciseError) {
    const std::vector<std::pair<std::string, PersonnummerError>> table = {
        {"12121212121212", PersonnummerError::WrongLength},  // 14 digits, e.g. a timestamp
        {"121212", PersonnummerError::WrongLength},
        {"12121-21212", PersonnummerError::InvalidCharacters},  // separator in the wrong place
        {"121212-121X", PersonnummerError::InvalidCharacters},
        {"121212\xe2\x80\x93"
         "1212",
         PersonnummerError::InvalidCharacters},  // en dash
        {"121212-+1212", PersonnummerError::InvalidCharacters},
        {"+1212121212", PersonnummerError::InvalidCharacters},
        {"1212121212-", PersonnummerError::InvalidCharacters},
        {"19121212 1212", PersonnummerError::InvalidCharacters},
        {withCheck("810229123"), PersonnummerError::InvalidDate},  // 1981 was no leap year
        {"20" + withCheck("261231123"), PersonnummerError::FutureDate},
    };
    for (const auto& [input, err] : table) EXPECT_EQ(errorOf(input), err) << input;
    EXPECT_EQ(ok(withCheck("800229123")).birthDate(),
              (year_month_day{year{1980}, month{2}, day{29}}));
}

TEST(Personnummer, EveryErrorHasADistinctKebabCaseNameAndASwedishText) {
    const PersonnummerError all[] = {
        PersonnummerError::Empty,           PersonnummerError::InvalidCharacters,
        PersonnummerError::WrongLength,     PersonnummerError::InvalidDate,
        PersonnummerError::InvalidChecksum, PersonnummerError::FutureDate,
        PersonnummerError::SeparatorMisuse};
    std::set<std::string_view> names, texts;
    for (auto e : all) {
        const auto name = toString(e);
        EXPECT_FALSE(name.empty());
        for (char c : name) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '-') << name;
        names.insert(name);
        texts.insert(describeSv(e));
    }
    EXPECT_EQ(names.size(), std::size(all));
    EXPECT_EQ(texts.size(), std::size(all));
    EXPECT_EQ(toString(PersonnummerError::SeparatorMisuse), "separator-misuse");
    EXPECT_EQ(describeSv(PersonnummerError::FutureDate), "Födelsedatumet ligger i framtiden.");
}

TEST(Personnummer, AgeChangesOnTheBirthdayItself) {
    const auto p = ok("19" + withCheck("800515123"));
    EXPECT_EQ(p.ageOn({year{2026}, month{5}, day{14}}), 45);
    EXPECT_EQ(p.ageOn({year{2026}, month{5}, day{15}}), 46);
    EXPECT_EQ(p.ageOn({year{1980}, month{5}, day{15}}), 0);
    EXPECT_EQ(ok("20" + withCheck("000229123")).ageOn({year{2100}, month{2}, day{28}}),
              99);  // 2100: no leap day
    EXPECT_EQ(ok("20" + withCheck("000229123")).ageOn({year{2100}, month{3}, day{1}}), 100);
}

TEST(MaskPersonnummer, MasksSeveralNumbersAndNumbersAtTheEdges) {
    EXPECT_EQ(maskPersonnummerInText("191212121212,121212-1212"), "19121212****,121212-****");
    EXPECT_EQ(maskPersonnummerInText("121212-1212"), "121212-****");
    EXPECT_EQ(maskPersonnummerInText("id=1212121212&next=191212121212"),
              "id=121212****&next=19121212****");
    EXPECT_EQ(maskPersonnummerInText("{\"pnr\":\"19121212-1212\"}"), "{\"pnr\":\"19121212-****\"}");
    EXPECT_EQ(maskPersonnummerInText("\xc3\xa5 121212+1212 \xc3\xa4"),
              "\xc3\xa5 121212+**** \xc3\xa4");
    EXPECT_EQ(maskPersonnummerInText(""), "");
}

TEST(MaskPersonnummer, OnlyRunsOfExactlyTenOrTwelveDigitsAreMasked) {
    for (const char* s : {"123456789", "12345678901", "1234567890123", "20261122134501",
                          "1912121-1212", "121212-121", "121212-12121", "1212121-1212",
                          "121212--1212", "19121212/1212", "121212  1212"}) {
        EXPECT_EQ(maskPersonnummerInText(s), s);
    }
    // One space is a separator people type (until 2026-12-08 such a number stayed in the log).
    EXPECT_EQ(maskPersonnummerInText("121212 1212"), "121212 ****");
    // A ten-digit number that cannot be a personnummer (month 34) is an order number.
    EXPECT_EQ(maskPersonnummerInText("order 1234567890"), "order 1234567890");
}

TEST(MaskPersonnummer, PercentEncodedNumbersAreMaskedAfterDecoding) {
    EXPECT_EQ(maskPersonnummerInText("GET /x?pnr=19900101%2D2385 200"), "GET /x?pnr=19900101%2D**** 200");
    EXPECT_EQ(maskPersonnummerInText("GET /x?pnr=900101%2B2385"), "GET /x?pnr=900101%2B****");
    EXPECT_EQ(maskPersonnummerInText("pnr=900101%2b2385&a=1"), "pnr=900101%2b****&a=1");
    // Encoded digits and a doubly encoded separator: every byte of a masked digit becomes '*'.
    EXPECT_EQ(maskPersonnummerInText("p=19900101%252D2385"), "p=19900101%252D****");
    EXPECT_EQ(maskPersonnummerInText("p=%31%39%39%30%30%31%30%31%32%33%38%35"),
              "p=%31%39%39%30%30%31%30%31************");
    // Percent signs that are no escape stay as they are.
    EXPECT_EQ(maskPersonnummerInText("100% of 9001012385"), "100% of 900101****");
}

TEST(MaskPersonnummer, OnlyNumbersOfAPersonnummersShapeAreMasked) {
    // A wrong check digit in a bare run: not a personnummer (a timestamp or an order number).
    EXPECT_EQ(maskPersonnummerInText("id 9001012384"), "id 9001012384");
    // Written with its separator, a mistyped number still names a person: masked.
    EXPECT_EQ(maskPersonnummerInText("pnr 900101-2384"), "pnr 900101-****");
    // Samordningsnummer (day + 60) are masked like personnummer.
    EXPECT_EQ(maskPersonnummerInText("snr 198001611238"), "snr 19800161****");
    // No 13th month, no 32nd day, no century 21 in a 12-digit form.
    EXPECT_EQ(maskPersonnummerInText("n 901301-2385 n 900132-2385"), "n 901301-2385 n 900132-2385");
    EXPECT_EQ(maskPersonnummerInText("n 219001012385"), "n 219001012385");
    EXPECT_EQ(maskPersonnummerInText("n 199002302385"), "n 199002302385");  // 30 February
}

TEST(MaskPersonnummer, HsaIdsAreNotMasked) {
    for (const char* s : {"unit SE2321000016-ABCD", "SE2321000016-1234", "by SE165565594230-E123 at",
                          "/api/v1/booking/practitioners/SE2321000016-DOC1/icalfeed",
                          "hsa=SE2321000016-A1%2C", "SE9001012385-X1"}) {
        EXPECT_EQ(maskPersonnummerInText(s), s) << s;
    }
    // The same digits without the HSA-id's shape are a personnummer.
    EXPECT_EQ(maskPersonnummerInText("XSE9001012385-X1"), "XSE900101****-X1");
    EXPECT_EQ(maskPersonnummerInText("SE9001012385"), "SE900101****");
}

TEST(MaskPersonnummer, KeepsTheLengthOfTheLine) {
    const std::string line =
        "2026-11-22T13:45:01 INFO check-in 19121212-1212 booking 1234 from 10.0.0.1";
    const auto masked = maskPersonnummerInText(line);
    EXPECT_EQ(masked.size(), line.size());
    EXPECT_EQ(masked, "2026-11-22T13:45:01 INFO check-in 19121212-**** booking 1234 from 10.0.0.1");
}
