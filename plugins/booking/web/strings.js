// Every Swedish text of the booking plugin's pages, in one place so English can follow.
export const sv = {
  unit: 'Vårdenhet', date: 'Datum', days: 'Visa', day1: 'En dag', day7: 'En vecka', practitioner: 'Vårdgivare',
  all: 'Alla', show: 'Visa', time: 'Tid', visitType: 'Besökstyp', status: 'Status', patient: 'Patient', actions: 'Åtgärd',
  free: 'ledig', passed: 'passerad', booked: 'bokad', arrived: 'ankommen', noshow: 'uteblev', cancelled: 'avbokad', rebooked: 'ombokad',
  book: 'Boka', cancel: 'Avboka', markNoShow: 'Uteblev', details: 'Visa',
  pnr: 'Personnummer', phone: 'Mobilnummer (för bekräftelse och påminnelse)', email: 'E-post', reason: 'Kontaktorsak (skickas aldrig ut)',
  booked_ok: 'Bokat: {time}.', cancelled_ok: 'Tiden {time} är avbokad.', noshow_ok: 'Markerad som uteblev ({count} {times} totalt).',
  time1: 'gång', timesN: 'gånger', undo: 'Ångra', undoNoShow: 'Ångra uteblev', noshow_undone: 'Uteblev är ångrat: tiden är bokad igen.',
  noshowConfirm: 'Ja, markera som uteblev', confirmNoShow: 'Markera {patient} som uteblev från tiden {time}?',
  confirmCancel: 'Avboka tiden {time} för {patient}?', cancelConfirm: 'Avboka tiden', close: 'Avbryt',
  cancelReason: 'Orsak (valfri, sparas i loggen)', cancelReasonRequired: 'Orsak till den sena avbokningen (krävs, sparas i loggen)',
  lateCancelNote: 'Det är mindre än ett dygn kvar. Patienten kan inte själv avboka nu, men personal kan med en orsak.',
  reasonNeeded: 'Skriv en orsak till den sena avbokningen.', openingHours: 'Öppet den här dagen: {from}–{to}.', noUnits: 'Inga vårdenheter ännu. En administratör lägger upp dem under Scheman.',
  noSlots: 'Inga tider den här perioden.', form: { physical: 'mottagning', video: 'video', phone: 'telefon' },
  setupTitle: 'Vårdenheter, vårdgivare och scheman',
  units: 'Vårdenheter', practitioners: 'Vårdgivare', visitTypes: 'Besökstyper', schedules: 'Scheman', closedDays: 'Stängda dagar',
  holidays: 'Helgdagar {year} (beräknas, stängt)', hsa: 'HSA-id', name: 'Namn', address: 'Adress', profession: 'Yrke',
  visitForm: 'Besöksform', minutes: 'Minuter', vipBookable: 'Kan bokas med VIP-kod', id: 'Id',
  weekdays: 'Veckodagar', weekdaysCol: 'Veckodagar',
  wd: {mon: 'Måndag', tue: 'Tisdag', wed: 'Onsdag', thu: 'Torsdag', fri: 'Fredag', sat: 'Lördag', sun: 'Söndag'},
  wdShort: {mon: 'mån', tue: 'tis', wed: 'ons', thu: 'tors', fri: 'fre', sat: 'lör', sun: 'sön'}, start: 'Öppnar (TT:MM)', end: 'Stänger (TT:MM)',
  breaks: 'Raster (t.ex. 12:00-13:00, flera med komma)', validFrom: 'Gäller från', validTo: 'Gäller till', reasonClosed: 'Orsak',
  add: 'Lägg till', saved: 'Sparat.', endSchedule: 'Avsluta', confirmEnd: 'Avsluta schemat? Lediga framtida tider tas bort, bokade ligger kvar.',
  openDay: 'Öppna dagen', confirmOpenDay: 'Öppna {date} igen? Schemats lediga tider den dagen kommer tillbaka.', dayOpened: '{date} är öppen igen: {count} lediga tider.',
  invTitle: 'Kallelser', invNew: 'Ny kallelse', purpose: 'Syfte (visas bara för patienten efter inloggning med personnummer)',
  questions: 'Frågor före besöket (en per rad)', kind: 'Typ', kindOpen: 'Öppen – patienten väljer tid', kindTimed: 'Tidsatt – välj tid nedan',
  slotId: 'Tid (id från dagsvyn)', send: 'Skicka kallelse', invSent: 'Kallelsen är skickad. Länk: {link}',
  answers: 'Svar', noInvitations: 'Inga kallelser.', vipTitle: 'VIP-koder', vipNew: 'Ny VIP-kod', vipTypes: 'Besökstyper (id, med komma)',
  maxActive: 'Högst antal bokade tider samtidigt', horizon: 'Dagar framåt', validDays: 'Giltig i dagar',
  create: 'Skapa', vipCreated: 'Koden är {code}. Den visas bara nu – ge den till patienten. Bokning: {link}',
  lookup: 'Sök', revoke: 'Återkalla', revoked: 'återkallad', active: 'aktiv', expired: 'utgången',
  confirmRevokeVip: 'Återkalla VIP-kod {id}? Patienten kan inte längre boka med den.',
  confirmRevokeIcal: 'Återkalla kalenderlänken? Kalendrar som prenumererar på den slutar uppdateras.',
  icalTitle: 'Kalender-prenumeration (iCal)', icalCreate: 'Skapa hemlig länk', icalRevoke: 'Återkalla länken',
  icalCreated: 'Prenumerera på: {url} (den gamla länken slutar gälla)', icalRevoked: 'Länken gäller inte längre.',
  // The patient's pages (invitation link, VIP booking).
  p: {
    invTitle: 'Din kallelse', vipTitle: 'Boka med din kod', pnrLabel: 'Ditt personnummer (ÅÅÅÅMMDD-NNNN)',
    codeLabel: 'Din kod (från mottagningen)', open: 'Öppna', noLink: 'Länken är ofullständig. Öppna den igen från meddelandet.',
    from: 'Från {unit}, {address}', purpose: 'Syfte: {purpose}', yourTime: 'Din tid: {time}', chooseTime: 'Välj en tid',
    choose: 'Boka den här tiden', bookedOk: 'Klart! Din tid är {time}. Du får en bekräftelse.', questions: 'Frågor före besöket',
    sendAnswers: 'Skicka svaren', answered: 'Tack, dina svar är skickade.', cancel: 'Avboka tiden',
    cancelledOk: 'Tiden är avbokad.', noTimes: 'Det finns inga lediga tider just nu. Ring mottagningen.',
    phone: 'Mobilnummer för bekräftelse (valfritt)', failed: 'Det gick inte: {msg}', video: 'videobesök',
  },
};

// A personnummer as people write it: YYYYMMDD-NNNN.
export function pnr(twelve) {
  const s = String(twelve || '');
  return /^\d{12}$/.test(s) ? `${s.slice(0, 8)}-${s.slice(8)}` : s;
}

export function t(key, vars = {}) {
  const v = key.split('.').reduce((o, k) => (o ? o[k] : undefined), sv);
  return String(v ?? key).replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? ''));
}
