// The kiosk's patient-facing texts in Swedish (the reference catalogue: every key is here).
// Other languages: a file per language code beside this one, listed in kiosk-i18n.js and in
// the check-in plugin's `kiosk.languages` enum.
export default {
  'kiosk.language': 'Svenska', 'kiosk.chooseLanguage': 'Välj språk',
  'kiosk.title': 'Välkommen – checka in här', 'kiosk.intro': 'Skriv ditt personnummer för att anmäla att du har kommit.',
  'kiosk.pnr': 'Personnummer', 'kiosk.pnrHint': 'ÅÅÅÅMMDD-NNNN', 'kiosk.checkIn': 'Checka in',
  'kiosk.keypad': 'Sifferknappar', 'kiosk.erase': 'Radera', 'kiosk.eraseLabel': 'Radera sista siffran', 'kiosk.clear': 'Rensa',
  'kiosk.code': 'Kod från kioskens skärm', 'kiosk.codeHint': 'Sex siffror',
  'kiosk.phoneIntro': 'Checka in med mobilen: skriv ditt personnummer och koden som visas på kiosken i väntrummet.',
  'kiosk.phoneCode': 'Checka in med mobilen: öppna {url} och skriv koden {code}.',
  'kiosk.cleared': 'Skärmen har rensats för nästa patient.',
  'kiosk.error': 'Något gick fel', 'kiosk.askStaff': 'Du är välkommen till receptionen så hjälper vi dig.',
  'kiosk.welcome': 'Du är incheckad', 'kiosk.yourTime': 'Din tid är kl. {time}.', 'kiosk.room': 'Rum: {room}',
  'kiosk.free': 'Du betalar inget idag.',
  'kiosk.toPay': 'Att betala: {kr}',
  'kiosk.local': 'Beloppet bygger på mottagningens egna uppgifter eftersom e-frikort inte kunde nås just nu.',
  'kiosk.kr': '{kr} kr',
  'kiosk.method.swish': 'Betala med Swish', 'kiosk.method.desk': 'Betala i receptionen', 'kiosk.method.invoice': 'Faktura',
  'kiosk.optinQuestion': 'Vill du ansluta dig till e-frikort, så att dina avgifter räknas ihop i hela regionen?',
  'kiosk.optinYes': 'Ja, anslut mig', 'kiosk.optinNo': 'Nej tack', 'kiosk.optinThanks': 'Tack, du är anmäld till e-frikort.',
  'kiosk.swishTitle': 'Betala med Swish', 'kiosk.swishOpen': 'Öppna Swish i din telefon och godkänn {kr}.',
  'kiosk.waiting': 'Väntar på betalningen …', 'kiosk.notPaid': 'Betalningen blev inte av.',
  'kiosk.thanks': 'Tack!', 'kiosk.paid': 'Betalningen är klar.', 'kiosk.invoiced': 'Du får en faktura hem.',
  'kiosk.payAtDesk': 'Betala i receptionen när du är klar.', 'kiosk.receipt': 'Visa kvitto',
  'kiosk.sitDown': 'Slå dig ner i väntrummet, vi ropar upp dig.', 'kiosk.done': 'Klar',
};
