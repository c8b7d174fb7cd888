# Il flusso di connessione ospitato, italiano.

product-generic = questa applicazione
close = Chiudi
back = Indietro
continue = Continua
step-of = Passaggio { $current } di { $total }

category-HRIS = software HR
category-ATS = software di selezione
category-ASSESSMENT = software di selezione
category-LMS = piattaforma di formazione

picker-title = Quale { $category } usa { $organization }?
picker-intro = Lo selezioni per collegarlo a { $product }.
picker-search = Cerca
picker-empty = Nessuno strumento corrisponde alla ricerca.

consent-title = Cosa potrà fare { $product }
consent-intro-scopes = Dopo il collegamento, { $product } potrà usare il Suo account { $tool } tramite la sua API, con gli accessi che concede qui sotto:
consent-intro-account = Dopo il collegamento, { $product } potrà usare il Suo account { $tool } tramite la sua API, con gli accessi delle credenziali che inserisce. Questo può includere:
consent-secure = Le Sue credenziali vengono trasmesse tramite una connessione cifrata, verificate con { $tool } e archiviate in forma cifrata. Può scollegarsi in qualsiasi momento.

guide-title = Come ottenere le credenziali di { $tool }
guide-docs = Documentazione di { $tool } (si apre in una nuova scheda)
guide-sandbox-1 = Questo è uno strumento di prova: non serve alcun account.
guide-sandbox-2 = Inserisca una chiave API qualsiasi per collegarsi. Queste chiavi mostrano come appaiono gli errori: invalid, missing_scope, rate_limited; slow richiede tre secondi.

credentials-title = Collegare { $tool }
credentials-intro = Inserisca le credenziali del passaggio precedente. Vengono verificate con { $tool } prima di salvare qualsiasi cosa.
credentials-submit = Collega
credentials-verifying = Verifica con { $tool } in corso…
credentials-secret-hint = Nascosto durante la digitazione, non viene più mostrato.
credentials-error-summary = Il collegamento non è riuscito:

field-required = Compili { $field }.
field-pattern = { $field } non ha il formato previsto.
field-too-long = { $field } può contenere al massimo { $max } caratteri.
field-url = Inserisca un indirizzo completo che inizi con https://.
field-email = Inserisca un indirizzo e-mail valido.

verify-invalid-credentials = { $tool } non ha accettato queste credenziali. Le controlli e riprovi.
verify-missing-permission = Queste credenziali funzionano, ma manca un'autorizzazione necessaria per il collegamento. Chieda a un amministratore di { $tool } di concederla, poi riprovi.
verify-wrong-instance = { $tool } non ha trovato il Suo account a questo indirizzo. Controlli { $fields }.
verify-rate-limited = { $tool } sta ricevendo troppe richieste. Attenda un minuto, poi riprovi.
verify-unreachable = { $tool } non è raggiungibile. Riprovi tra poco.
too-many-attempts = Troppi tentativi in poco tempo. { $seconds ->
        [one] Riprovi tra { $seconds } secondo.
       *[other] Riprovi tra { $seconds } secondi.
    }
form-expired = Questo modulo è scaduto. Torni indietro e ricominci.

success-title = { $tool } è collegato
success-body = { $organization } è ora collegata. Può chiudere questa finestra e tornare a { $product }.
success-done = Fine
success-token = Link di sviluppo aperto fuori da un’app: questo è il token di attivazione che il vostro back-end riceverebbe.

error-invalid-title = Questo link non funziona
error-invalid-body = Il link è incompleto o è stato modificato. Richieda un nuovo link.
error-expired-title = Questo link è scaduto
error-expired-body = I link sono validi solo per un periodo limitato. Richieda un nuovo link per continuare.
error-used-title = Questo link è già stato usato
error-used-body = Con questo link è già stato completato un collegamento. Per collegarsi di nuovo, richieda un nuovo link.
error-revoked-title = Questo link è stato ritirato
error-revoked-body = Il link non è più valido. Richieda un nuovo link.
error-gone-title = Questo collegamento non esiste più
error-gone-body = Il collegamento che questo link doveva aggiornare è stato rimosso. Richieda un nuovo link.
error-tool-title = Questo strumento non può essere collegato qui
error-tool-body = Torni indietro e scelga un altro strumento.
error-signin-expired-title = Questo accesso è scaduto
error-signin-expired-body = È già stato usato o ha richiesto più di 10 minuti. Chiuda questa finestra e ricominci.
error-server-title = Si è verificato un problema
error-server-body = Riprovi tra poco. Se il problema persiste, chieda aiuto.
error-forbidden-body = Questa richiesta non proviene da questa pagina. Ricarichi la pagina e riprovi.

model-hris_employees = Dipendenti
model-hris_employees-desc = Nomi, contatti di lavoro, ruoli e responsabili
model-hris_employments = Rapporti di lavoro
model-hris_employments-desc = Contratti, tipi di impiego, date di inizio e fine
model-hris_absences = Assenze
model-hris_absences-desc = Richieste di ferie e le relative date
model-hris_absence_types = Tipi di assenza
model-hris_absence_types-desc = I tipi di congedo previsti dalla Sua azienda
model-hris_time_off_balances = Saldi ferie
model-hris_time_off_balances-desc = Ferie residue per dipendente
model-hris_teams = Team
model-hris_teams-desc = Reparti, team e relativi membri
model-hris_locations = Sedi
model-hris_locations-desc = Uffici e luoghi di lavoro
model-hris_legal_entities = Società
model-hris_legal_entities-desc = Le società presso cui i dipendenti sono assunti
model-ats_jobs = Posizioni
model-ats_jobs-desc = Posizioni aperte e chiuse
model-ats_candidates = Candidati
model-ats_candidates-desc = Nomi, contatti e curriculum
model-ats_applications = Candidature
model-ats_applications-desc = Quale candidato si è candidato a quale posizione, e la fase attuale
model-ats_application_stages = Fasi di selezione
model-ats_application_stages-desc = I passaggi del Suo processo di selezione
model-ats_users = Utenti
model-ats_users-desc = Recruiter e responsabili delle assunzioni
model-ats_interviews = Colloqui
model-ats_interviews-desc = Colloqui pianificati e intervistatori
model-ats_offers = Offerte
model-ats_offers-desc = Offerte fatte ai candidati
model-ats_tags = Etichette
model-ats_tags-desc = Etichette sui candidati
model-lms_users = Partecipanti
model-lms_users-desc = Nomi e indirizzi e-mail di lavoro
model-lms_courses = Corsi
model-lms_courses-desc = Titoli, descrizioni e fornitori dei corsi
model-lms_course_progressions = Avanzamento dei corsi
model-lms_course_progressions-desc = Chi è iscritto a quale corso, e il completamento
model-lms_skills = Competenze
model-lms_skills-desc = Competenze insegnate dai corsi

# Signing in to an OAuth tool
signin-button = Accedi con { $tool }
signin-waiting = In attesa del suo accesso a { $tool } nella finestra che si è aperta…
signin-form-title = Accedi a { $tool }
signin-form-intro = Inserisca questi dati per permetterci di portarla alla sua pagina di accesso di { $tool }.
signin-callback-done-title = Accesso eseguito
signin-callback-done = Può chiudere questa finestra; il collegamento prosegue nell’altra.
signin-callback-failed = Chiuda questa finestra; l’altra indica cosa è successo e come riprovare.
signin-failed-title = Non collegato
signin-denied = L’accesso è stato negato in { $tool }. Per collegare, acceda di nuovo e consenta l’accesso.
signin-vendor-error = { $tool } non ha potuto completare l’accesso. Riprovi tra un momento.
signin-refused = Non è stato possibile confermare l’accesso per questo browser. Lo avvii di nuovo da qui.
signin-exchange-failed = { $tool } non ha confermato l’accesso. Riprovi; se continua a non riuscire, contatti l’assistenza.
signin-unverified = L’accesso è riuscito, ma { $tool } non concede a questo account l’accesso ai dati. Acceda con un account amministratore.
signin-closed = La finestra di accesso è stata chiusa prima che l’accesso fosse completato.
signin-blocked = Il browser ha bloccato la finestra di accesso. Consenta i pop-up per questo sito, oppure riprovi.
signin-link-problem = Questo link non può più essere usato. Ne chieda uno nuovo.
signin-retry = Riprova
signin-pending-title = Completamento dell’accesso…
