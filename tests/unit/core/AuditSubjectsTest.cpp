// One audit record for a view of several patients (subjects): the chain covers the list, the
// index finds every view of a patient, and the review, CSV export and log extract show it.
#include "audit/AuditLog.h"
#include "audit/AuditReview.h"
#include "store/CoreMigrations.h"
#include "store/Migrations.h"

#include "TempDir.h"

#include <Poco/JSON/Object.h>

#include <gtest/gtest.h>

using namespace klinikbox;

namespace {
const std::vector<std::string> kShown = {"199001012385", "191212121212", "198507099805", "191212121212"};

struct Fixture {
    kbtest::TempDir dir;
    store::Database db{store::DatabaseOptions{dir.file("kb.db"), true, 5000}};
    SystemClock clock;
    std::string key = audit::AuditLog::loadOrCreateKey(dir.file("audit.key"));
    audit::AuditLog log{db, clock, key};
    audit::Actor sara;
    Fixture() {
        store::Migrations::apply(db, "core", store::coreMigrations());
        sara.username = "sara";
        sara.role = "staff";
        sara.careUnit = "SE2321000016-B001";
        log.append(sara, AuditEntry{"booking.read", "191212121212", "vård", "ok", "schedule of the patient"});
        log.appendSubjects(sara, AuditEntry{"booking.read", "", "vård", "ok", "calendar SE2321000016-B001 from 2026-12-07"},
                           kShown);
        log.append(sara, AuditEntry{"booking.create", "197001010008", "vård", "ok", "slot 9"});
    }
    long long count(const std::string& sql) {
        long long n = -1;
        db.read("core", [&](db::Connection& c) {
            auto st = c.prepare(sql);
            if (st.step()) n = st.getInt(0);
        });
        return n;
    }
    // Tampering as someone with direct database access would: drop the guard triggers first.
    void tamper(const std::string& sql) {
        db.write("core", [&](db::Connection& c) {
            c.exec("DROP TRIGGER kb_audit_subjects_no_update; DROP TRIGGER kb_audit_subjects_no_delete;");
            c.exec(sql);
        });
    }
    audit::ReviewFilter byPatient(const std::string& p) {
        audit::ReviewFilter f;
        f.patient = p;
        return f;
    }
};
}  // namespace

TEST(AuditSubjects, AViewOfSeveralPatientsIsOneRecordListingEachOnce) {
    Fixture f;
    EXPECT_EQ(f.count("SELECT COUNT(*) FROM kb_audit"), 3);
    EXPECT_EQ(f.count("SELECT COUNT(*) FROM kb_audit WHERE seq = 2 AND patient = ''"), 1);
    EXPECT_EQ(f.count("SELECT COUNT(*) FROM kb_audit_subjects WHERE seq = 2"), 3) << "the duplicate is dropped";
    EXPECT_EQ(f.count("SELECT COUNT(*) FROM kb_audit_subjects WHERE seq <> 2"), 0);
    const auto r = f.log.verify();
    EXPECT_TRUE(r.ok) << r.problem;
    EXPECT_EQ(r.records, 3);
}

TEST(AuditSubjects, OneSubjectIsAnOrdinaryRecordAndNoneRecordsNothing) {
    Fixture f;
    f.log.appendSubjects(f.sara, AuditEntry{"booking.read", "", "vård", "ok", "calendar"}, {"199001012385"});
    f.log.appendSubjects(f.sara, AuditEntry{"booking.read", "", "vård", "ok", "calendar"}, {});
    EXPECT_EQ(f.count("SELECT COUNT(*) FROM kb_audit"), 4);
    EXPECT_EQ(f.count("SELECT COUNT(*) FROM kb_audit WHERE seq = 4 AND patient = '199001012385'"), 1);
    EXPECT_EQ(f.count("SELECT COUNT(*) FROM kb_audit_subjects WHERE seq = 4"), 0);
    EXPECT_TRUE(f.log.verify().ok);
    EXPECT_THROW(f.log.appendSubjects(f.sara, AuditEntry{"booking.read", "191212121212", "vård", "ok", ""},
                                      {"199001012385", "198507099805"}),
                 std::logic_error);
}

TEST(AuditSubjects, TheListIsAppendOnly) {
    Fixture f;
    EXPECT_ANY_THROW(f.db.write("core", [](db::Connection& c) { c.exec("DELETE FROM kb_audit_subjects WHERE seq = 2"); }));
    EXPECT_ANY_THROW(f.db.write("core", [](db::Connection& c) { c.exec("UPDATE kb_audit_subjects SET subject = 'x'"); }));
    EXPECT_EQ(f.count("SELECT COUNT(*) FROM kb_audit_subjects"), 3);
}

TEST(AuditSubjects, ARemovedSubjectBreaksTheChain) {
    Fixture f;
    f.tamper("DELETE FROM kb_audit_subjects WHERE seq = 2 AND subject = '191212121212'");
    const auto r = f.log.verify();
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.firstBadSeq, 2);
}

TEST(AuditSubjects, AChangedSubjectBreaksTheChain) {
    Fixture f;
    f.tamper("UPDATE kb_audit_subjects SET subject = '191010101010' WHERE seq = 2 AND subject = '198507099805'");
    const auto r = f.log.verify();
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.firstBadSeq, 2);
}

TEST(AuditSubjects, ASubjectAddedToAnotherRecordBreaksTheChain) {
    Fixture f;
    f.tamper("INSERT INTO kb_audit_subjects(seq, subject) VALUES(3, '191010101010')");
    const auto r = f.log.verify();
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.firstBadSeq, 3);
}

TEST(AuditSubjects, ASubjectOfARecordNotInTheLogIsDetected) {
    Fixture f;
    f.tamper("INSERT INTO kb_audit_subjects(seq, subject) VALUES(99, '191010101010')");
    const auto r = f.log.verify();
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.firstBadSeq, 99);
}

TEST(AuditSubjects, TheReviewFindsEveryViewOfAPatientAndListsTheSubjects) {
    Fixture f;
    const auto rows = audit::reviewRecords(f.db, f.byPatient("191212121212"), 100);
    ASSERT_EQ(rows->size(), 2u);  // the view and the patient's own record, newest first
    const auto view = rows->getObject(0);
    EXPECT_EQ(view->getValue<long long>("seq"), 2);
    EXPECT_EQ(view->getValue<std::string>("patient"), "");
    const auto subjects = view->getArray("subjects");
    ASSERT_EQ(subjects->size(), 3u);
    EXPECT_EQ(subjects->getElement<std::string>(0), "191212121212");
    EXPECT_EQ(subjects->getElement<std::string>(1), "198507099805");
    EXPECT_EQ(subjects->getElement<std::string>(2), "199001012385");
    EXPECT_EQ(rows->getObject(1)->getArray("subjects")->size(), 0u);
    EXPECT_EQ(audit::reviewRecords(f.db, f.byPatient("198507099805"), 100)->size(), 1u);
    EXPECT_EQ(audit::reviewRecords(f.db, f.byPatient("197001010008"), 100)->size(), 1u);
    EXPECT_EQ(audit::reviewRecords(f.db, f.byPatient("191010101010"), 100)->size(), 0u);
}

TEST(AuditSubjects, TheCsvExportHasTheSubjectsColumn) {
    Fixture f;
    const auto csv = audit::exportCsv(f.db, f.byPatient("199001012385"));
    EXPECT_EQ(csv.rfind("seq,at,username,role,hsa_id,care_unit,action,patient,purpose,outcome,details,request_id,remote_addr,subjects\r\n", 0), 0u);
    EXPECT_NE(csv.find(",191212121212 198507099805 199001012385\r\n"), std::string::npos) << csv;
    EXPECT_EQ(csv.find("197001010008"), std::string::npos) << "another patient's record is not exported";
}

TEST(AuditSubjects, EachPatientsLogExtractCountsTheViewWithoutNamingTheOthers) {
    Fixture f;
    const auto e = audit::patientExtract(f.db, "191212121212");
    ASSERT_EQ(e->size(), 1u);
    EXPECT_EQ(e->getObject(0)->getValue<long long>("count"), 2);  // its own record and the view
    EXPECT_EQ(e->getObject(0)->getValue<std::string>("username"), "sara");
    const auto other = audit::patientExtract(f.db, "198507099805");
    ASSERT_EQ(other->size(), 1u);
    EXPECT_EQ(other->getObject(0)->getValue<long long>("count"), 1);
    std::ostringstream os;
    other->stringify(os);
    EXPECT_EQ(os.str().find("1912121212"), std::string::npos) << os.str();
}

TEST(AuditSubjects, APluginRecordsOneViewInsideItsTransaction) {
    Fixture f;
    audit::PluginAudit pa(f.log, "booking");
    Request req;
    f.db.write("core", [&](db::Connection& c) {
        pa.recordSubjects(req, AuditEntry{"read", "", "vård", "ok", "list"}, {"199001012385", "198507099805"}, c);
    });
    EXPECT_EQ(req.auditRecords, 1);
    EXPECT_EQ(f.count("SELECT COUNT(*) FROM kb_audit WHERE seq = 4 AND action = 'booking.read'"), 1);
    EXPECT_EQ(f.count("SELECT COUNT(*) FROM kb_audit_subjects WHERE seq = 4"), 2);
    EXPECT_TRUE(f.log.verify().ok);
}
