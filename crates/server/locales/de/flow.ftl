# Der gehostete Verbindungsablauf, Deutsch. { $product } steht nur im Nominativ oder Akkusativ
# ("diese Anwendung"), weil der allgemeine Ausdruck sonst falsch dekliniert würde.

product-generic = diese Anwendung
close = Schließen
back = Zurück
continue = Weiter
step-of = Schritt { $current } von { $total }

category-HRIS = HR-Software
category-ATS = Recruiting-Software
category-ASSESSMENT = Recruiting-Software
category-LMS = Lernplattform

picker-title = Welche { $category } nutzt { $organization }?
picker-intro = Wählen Sie sie aus, damit { $product } darauf zugreifen kann.
picker-search = Suchen
picker-empty = Kein Tool passt zu Ihrer Suche.

consent-title = Was { $product } tun kann
consent-intro-scopes = Nach der Verbindung kann { $product } Ihr { $tool }-Konto über dessen API nutzen, mit den Berechtigungen, die Sie unten erteilen:
consent-intro-account = Nach der Verbindung kann { $product } Ihr { $tool }-Konto über dessen API nutzen, mit dem Zugriff der Zugangsdaten, die Sie eingeben. Das kann Folgendes umfassen:
consent-secure = Ihre Zugangsdaten werden verschlüsselt übertragen, bei { $tool } geprüft und verschlüsselt gespeichert. Sie können die Verbindung jederzeit trennen.

guide-title = So erhalten Sie Ihre Zugangsdaten für { $tool }
guide-docs = Dokumentation von { $tool } (öffnet in einem neuen Tab)
guide-sandbox-1 = Dies ist ein Test-Tool: Sie brauchen kein Konto.
guide-sandbox-2 = Geben Sie einen beliebigen API-Schlüssel ein. Diese Schlüssel zeigen, wie Fehler aussehen: invalid, missing_scope, rate_limited; slow dauert drei Sekunden.

credentials-title = { $tool } verbinden
credentials-intro = Geben Sie die Zugangsdaten aus dem vorigen Schritt ein. Sie werden bei { $tool } geprüft, bevor etwas gespeichert wird.
credentials-submit = Verbinden
credentials-verifying = Prüfung bei { $tool } …
credentials-secret-hint = Wird bei der Eingabe verborgen und nie wieder angezeigt.
credentials-error-summary = Die Verbindung hat nicht funktioniert:

field-required = Füllen Sie { $field } aus.
field-pattern = { $field } hat nicht das erwartete Format.
field-too-long = { $field } darf höchstens { $max } Zeichen lang sein.
field-url = Geben Sie eine vollständige Adresse ein, die mit https:// beginnt.
field-email = Geben Sie eine gültige E-Mail-Adresse ein.

verify-invalid-credentials = { $tool } hat diese Zugangsdaten nicht akzeptiert. Prüfen Sie sie und versuchen Sie es erneut.
verify-missing-permission = Diese Zugangsdaten funktionieren, aber ihnen fehlt eine Berechtigung, die diese Verbindung braucht. Bitten Sie eine Administratorin oder einen Administrator von { $tool }, sie zu erteilen, und versuchen Sie es dann erneut.
verify-wrong-instance = { $tool } hat Ihr Konto dort nicht gefunden. Prüfen Sie { $fields }.
verify-rate-limited = { $tool } erhält gerade zu viele Anfragen. Warten Sie eine Minute und versuchen Sie es dann erneut.
verify-unreachable = { $tool } ist nicht erreichbar. Versuchen Sie es gleich noch einmal.
too-many-attempts = Zu viele Versuche in kurzer Zeit. { $seconds ->
        [one] Versuchen Sie es in { $seconds } Sekunde erneut.
       *[other] Versuchen Sie es in { $seconds } Sekunden erneut.
    }
form-expired = Dieses Formular ist abgelaufen. Gehen Sie zurück und beginnen Sie erneut.

success-title = { $tool } ist verbunden
success-body = { $organization } ist jetzt verbunden. Sie können dieses Fenster schließen und { $product } weiter verwenden.
success-done = Fertig
success-token = Entwicklungslink außerhalb einer App geöffnet: Dies ist das Aktivierungstoken, das Ihr Backend erhalten würde.

error-invalid-title = Dieser Link funktioniert nicht
error-invalid-body = Der Link ist unvollständig oder wurde verändert. Fordern Sie einen neuen Link an.
error-expired-title = Dieser Link ist abgelaufen
error-expired-body = Links sind nur begrenzt gültig. Fordern Sie einen neuen Link an, um fortzufahren.
error-used-title = Dieser Link wurde bereits verwendet
error-used-body = Mit diesem Link wurde bereits eine Verbindung hergestellt. Fordern Sie für eine neue Verbindung einen neuen Link an.
error-revoked-title = Dieser Link wurde zurückgezogen
error-revoked-body = Der Link ist nicht mehr gültig. Fordern Sie einen neuen Link an.
error-gone-title = Diese Verbindung besteht nicht mehr
error-gone-body = Die Verbindung, die dieser Link aktualisieren sollte, wurde entfernt. Fordern Sie einen neuen Link an.
error-tool-title = Dieses Tool kann hier nicht verbunden werden
error-tool-body = Gehen Sie zurück und wählen Sie ein anderes Tool.
error-signin-expired-title = Diese Anmeldung ist abgelaufen
error-signin-expired-body = Sie wurde bereits verwendet oder hat länger als 10 Minuten gedauert. Schließen Sie dieses Fenster und beginnen Sie erneut.
error-server-title = Etwas ist schiefgelaufen
error-server-body = Bitte versuchen Sie es gleich noch einmal. Wenn das Problem bleibt, bitten Sie um Hilfe.
error-forbidden-body = Diese Anfrage kam nicht von dieser Seite. Laden Sie die Seite neu und versuchen Sie es erneut.

model-hris_employees = Mitarbeitende
model-hris_employees-desc = Namen, geschäftliche Kontaktdaten, Positionen und Vorgesetzte
model-hris_employments = Beschäftigungsverhältnisse
model-hris_employments-desc = Verträge, Beschäftigungsarten, Beginn und Ende
model-hris_absences = Abwesenheiten
model-hris_absences-desc = Urlaubsanträge und ihre Daten
model-hris_absence_types = Abwesenheitsarten
model-hris_absence_types-desc = Die Urlaubs- und Abwesenheitsarten Ihres Unternehmens
model-hris_time_off_balances = Urlaubskonten
model-hris_time_off_balances-desc = Verbleibender Urlaub pro Person
model-hris_teams = Teams
model-hris_teams-desc = Abteilungen, Teams und ihre Mitglieder
model-hris_locations = Standorte
model-hris_locations-desc = Büros und Arbeitsorte
model-hris_legal_entities = Gesellschaften
model-hris_legal_entities-desc = Die Unternehmen, bei denen die Mitarbeitenden angestellt sind
model-ats_jobs = Stellen
model-ats_jobs-desc = Offene und geschlossene Stellen
model-ats_candidates = Kandidierende
model-ats_candidates-desc = Namen, Kontaktdaten und Lebensläufe
model-ats_applications = Bewerbungen
model-ats_applications-desc = Wer sich auf welche Stelle beworben hat, und der aktuelle Stand
model-ats_application_stages = Bewerbungsphasen
model-ats_application_stages-desc = Die Schritte Ihres Einstellungsprozesses
model-ats_users = Benutzer
model-ats_users-desc = Recruiter und einstellende Führungskräfte
model-ats_interviews = Interviews
model-ats_interviews-desc = Geplante Interviews und Interviewende
model-ats_offers = Angebote
model-ats_offers-desc = Angebote an Kandidierende
model-ats_tags = Tags
model-ats_tags-desc = Markierungen an Kandidierenden
model-lms_users = Lernende
model-lms_users-desc = Namen und geschäftliche E-Mail-Adressen
model-lms_courses = Kurse
model-lms_courses-desc = Kurstitel, Beschreibungen und Anbieter
model-lms_course_progressions = Kursfortschritt
model-lms_course_progressions-desc = Wer in welchem Kurs eingeschrieben ist, und der Abschluss
model-lms_skills = Fähigkeiten
model-lms_skills-desc = Fähigkeiten, die Kurse vermitteln

# Signing in to an OAuth tool
signin-button = Mit { $tool } anmelden
signin-waiting = Warten auf Ihre Anmeldung bei { $tool } im geöffneten Fenster …
signin-form-title = Bei { $tool } anmelden
signin-form-intro = Geben Sie diese Angaben ein, damit wir Sie zu Ihrer Anmeldeseite von { $tool } weiterleiten können.
signin-callback-done-title = Angemeldet
signin-callback-done = Sie können dieses Fenster schließen; die Verbindung wird im anderen Fenster fortgesetzt.
signin-callback-failed = Schließen Sie dieses Fenster; das andere Fenster zeigt, was passiert ist und wie Sie es erneut versuchen.
signin-failed-title = Nicht verbunden
signin-denied = Der Zugriff wurde in { $tool } abgelehnt. Melden Sie sich erneut an und erlauben Sie den Zugriff, um zu verbinden.
signin-vendor-error = { $tool } konnte die Anmeldung nicht abschließen. Bitte versuchen Sie es gleich noch einmal.
signin-refused = Die Anmeldung konnte für diesen Browser nicht bestätigt werden. Bitte starten Sie sie hier erneut.
signin-exchange-failed = { $tool } hat die Anmeldung nicht bestätigt. Bitte versuchen Sie es erneut; wenn es weiter fehlschlägt, wenden Sie sich an den Support.
signin-unverified = Sie sind angemeldet, aber { $tool } gibt diesem Konto keinen Zugriff auf die Daten. Melden Sie sich mit einem Administratorkonto an.
signin-closed = Das Anmeldefenster wurde geschlossen, bevor die Anmeldung abgeschlossen war.
signin-blocked = Ihr Browser hat das Anmeldefenster blockiert. Erlauben Sie Pop-ups für diese Website, oder versuchen Sie es erneut.
signin-link-problem = Dieser Link kann nicht mehr verwendet werden. Bitte fordern Sie einen neuen an.
signin-retry = Erneut versuchen
signin-pending-title = Die Anmeldung wird abgeschlossen …
