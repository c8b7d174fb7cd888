# Le parcours de connexion hébergé, français.

product-generic = cette application
close = Fermer
back = Retour
continue = Continuer
step-of = Étape { $current } sur { $total }

category-HRIS = logiciel RH
category-ATS = logiciel de recrutement
category-ASSESSMENT = logiciel de recrutement
category-LMS = plateforme de formation

picker-title = Quel { $category } { $organization } utilise-t-il ?
picker-intro = Choisissez-le pour le connecter à { $product }.
picker-search = Rechercher
picker-empty = Aucun outil ne correspond à votre recherche.

consent-title = Ce que { $product } pourra faire
consent-intro-scopes = Une fois la connexion établie, { $product } pourra utiliser votre compte { $tool } via son API, avec les accès que vous accordez ci-dessous :
consent-intro-account = Une fois la connexion établie, { $product } pourra utiliser votre compte { $tool } via son API, avec les accès des identifiants que vous saisissez. Cela peut inclure :
consent-secure = Vos identifiants sont transmis par une connexion chiffrée, vérifiés auprès de { $tool } et stockés chiffrés. Vous pouvez vous déconnecter à tout moment.

guide-title = Obtenir vos identifiants { $tool }
guide-docs = Documentation de { $tool } (s’ouvre dans un nouvel onglet)
guide-sandbox-1 = Ceci est un outil de test : aucun compte n’est nécessaire.
guide-sandbox-2 = Saisissez n’importe quelle clé API pour vous connecter. Ces clés montrent à quoi ressemblent les erreurs : invalid, missing_scope, rate_limited ; slow prend trois secondes.

credentials-title = Connecter { $tool }
credentials-intro = Saisissez les identifiants de l’étape précédente. Ils sont vérifiés auprès de { $tool } avant tout enregistrement.
credentials-submit = Connecter
credentials-verifying = Vérification auprès de { $tool }…
credentials-secret-hint = Masqué pendant la saisie, jamais réaffiché.
credentials-error-summary = La connexion n’a pas fonctionné :

field-required = Renseignez { $field }.
field-pattern = { $field } n’a pas le format attendu.
field-too-long = { $field } ne peut pas dépasser { $max } caractères.
field-url = Saisissez une adresse complète commençant par https://.
field-email = Saisissez une adresse e-mail valide.

verify-invalid-credentials = { $tool } n’a pas accepté ces identifiants. Vérifiez-les et réessayez.
verify-missing-permission = Ces identifiants fonctionnent, mais il leur manque une autorisation nécessaire à cette connexion. Demandez à un administrateur de { $tool } de l’accorder, puis réessayez.
verify-wrong-instance = { $tool } n’a pas trouvé votre compte à cet endroit. Vérifiez { $fields }.
verify-rate-limited = { $tool } reçoit trop de requêtes en ce moment. Attendez une minute, puis réessayez.
verify-unreachable = { $tool } est injoignable. Réessayez dans un instant.
too-many-attempts = Trop de tentatives en peu de temps. { $seconds ->
        [one] Réessayez dans { $seconds } seconde.
       *[other] Réessayez dans { $seconds } secondes.
    }
form-expired = Ce formulaire a expiré. Revenez en arrière et recommencez.

success-title = { $tool } est connecté
success-body = { $organization } est maintenant connecté. Vous pouvez fermer cette fenêtre et revenir à { $product }.
success-done = Terminé
success-token = Lien de développement ouvert hors d’une application : voici le jeton d’activation que votre back-end recevrait.

error-invalid-title = Ce lien ne fonctionne pas
error-invalid-body = Le lien est incomplet ou a été modifié. Demandez un nouveau lien.
error-expired-title = Ce lien a expiré
error-expired-body = Les liens ne sont valables que pour une durée limitée. Demandez un nouveau lien pour continuer.
error-used-title = Ce lien a déjà été utilisé
error-used-body = Une connexion a déjà été établie avec ce lien. Pour vous connecter à nouveau, demandez un nouveau lien.
error-revoked-title = Ce lien a été retiré
error-revoked-body = Le lien n’est plus valable. Demandez un nouveau lien.
error-gone-title = Cette connexion n’existe plus
error-gone-body = La connexion que ce lien devait mettre à jour a été supprimée. Demandez un nouveau lien.
error-tool-title = Cet outil ne peut pas être connecté ici
error-tool-body = Revenez en arrière et choisissez un autre outil.
error-signin-expired-title = Cette connexion a expiré
error-signin-expired-body = Elle a déjà été utilisée ou a pris plus de 10 minutes. Fermez cette fenêtre et recommencez.
error-server-title = Un problème est survenu
error-server-body = Veuillez réessayer dans un instant. Si le problème persiste, demandez de l’aide.
error-forbidden-body = Cette demande ne provient pas de cette page. Rechargez la page et réessayez.

model-hris_employees = Collaborateurs
model-hris_employees-desc = Noms, coordonnées professionnelles, postes et responsables
model-hris_employments = Contrats
model-hris_employments-desc = Contrats, types d’emploi, dates de début et de fin
model-hris_absences = Absences
model-hris_absences-desc = Demandes de congé et leurs dates
model-hris_absence_types = Types d’absence
model-hris_absence_types-desc = Les types de congé proposés par votre entreprise
model-hris_time_off_balances = Soldes de congés
model-hris_time_off_balances-desc = Congés restants par collaborateur
model-hris_teams = Équipes
model-hris_teams-desc = Services, équipes et leurs membres
model-hris_locations = Sites
model-hris_locations-desc = Bureaux et lieux de travail
model-hris_legal_entities = Entités juridiques
model-hris_legal_entities-desc = Les sociétés qui emploient les collaborateurs
model-ats_jobs = Offres d’emploi
model-ats_jobs-desc = Postes ouverts et fermés
model-ats_candidates = Candidats
model-ats_candidates-desc = Noms, coordonnées et CV
model-ats_applications = Candidatures
model-ats_applications-desc = Quel candidat a postulé à quel poste, et l’étape actuelle
model-ats_application_stages = Étapes de candidature
model-ats_application_stages-desc = Les étapes de votre processus de recrutement
model-ats_users = Utilisateurs
model-ats_users-desc = Recruteurs et responsables du recrutement
model-ats_interviews = Entretiens
model-ats_interviews-desc = Entretiens planifiés et intervenants
model-ats_offers = Offres
model-ats_offers-desc = Propositions faites aux candidats
model-ats_tags = Étiquettes
model-ats_tags-desc = Étiquettes attribuées aux candidats
model-lms_users = Apprenants
model-lms_users-desc = Noms et adresses e-mail professionnelles
model-lms_courses = Cours
model-lms_courses-desc = Titres, descriptions et fournisseurs des cours
model-lms_course_progressions = Progression
model-lms_course_progressions-desc = Qui est inscrit à quel cours, et son achèvement
model-lms_skills = Compétences
model-lms_skills-desc = Compétences enseignées par les cours

# Signing in to an OAuth tool
signin-button = Se connecter avec { $tool }
signin-waiting = En attente de votre connexion à { $tool } dans la fenêtre qui s’est ouverte…
signin-form-title = Se connecter à { $tool }
signin-form-intro = Saisissez ces informations pour que nous puissions vous conduire à votre page de connexion { $tool }.
signin-callback-done-title = Connecté
signin-callback-done = Vous pouvez fermer cette fenêtre ; la connexion se poursuit dans l’autre.
signin-callback-failed = Fermez cette fenêtre ; l’autre indique ce qui s’est passé et comment réessayer.
signin-failed-title = Non connecté
signin-denied = L’accès a été refusé dans { $tool }. Pour connecter l’outil, reconnectez-vous et autorisez l’accès.
signin-vendor-error = { $tool } n’a pas pu terminer la connexion. Veuillez réessayer dans un instant.
signin-refused = La connexion n’a pas pu être confirmée pour ce navigateur. Veuillez la recommencer depuis cette page.
signin-exchange-failed = { $tool } n’a pas confirmé la connexion. Veuillez réessayer ; si l’échec persiste, contactez l’assistance.
signin-unverified = Vous êtes connecté, mais { $tool } ne donne pas à ce compte l’accès à ses données. Connectez-vous avec un compte administrateur.
signin-closed = La fenêtre de connexion a été fermée avant la fin de la connexion.
signin-blocked = Votre navigateur a bloqué la fenêtre de connexion. Autorisez les fenêtres pop-up pour ce site, ou réessayez.
signin-link-problem = Ce lien ne peut plus être utilisé. Veuillez en demander un nouveau.
signin-retry = Réessayer
signin-pending-title = Finalisation de la connexion…
