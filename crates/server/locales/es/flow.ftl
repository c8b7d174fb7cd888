# El flujo de conexión alojado, español.

product-generic = esta aplicación
close = Cerrar
back = Atrás
continue = Continuar
step-of = Paso { $current } de { $total }

category-HRIS = software de RR. HH.
category-ATS = software de selección
category-ASSESSMENT = software de selección
category-LMS = plataforma de formación

picker-title = ¿Qué { $category } usa { $organization }?
picker-intro = Selecciónelo para conectarlo con { $product }.
picker-search = Buscar
picker-empty = Ninguna herramienta coincide con su búsqueda.

consent-title = Lo que { $product } podrá hacer
consent-intro-scopes = Una vez conectado, { $product } podrá usar su cuenta de { $tool } a través de su API, con los accesos que conceda a continuación:
consent-intro-account = Una vez conectado, { $product } podrá usar su cuenta de { $tool } a través de su API, con el acceso de las credenciales que introduzca. Esto puede incluir:
consent-secure = Sus credenciales se envían por una conexión cifrada, se verifican con { $tool } y se almacenan cifradas. Puede desconectarse en cualquier momento.

guide-title = Cómo obtener sus credenciales de { $tool }
guide-docs = Documentación de { $tool } (se abre en una pestaña nueva)
guide-sandbox-1 = Esta es una herramienta de prueba: no necesita ninguna cuenta.
guide-sandbox-2 = Escriba cualquier clave de API para conectar. Estas claves muestran cómo se ven los errores: invalid, missing_scope, rate_limited; slow tarda tres segundos.

credentials-title = Conectar { $tool }
credentials-intro = Introduzca las credenciales del paso anterior. Se verifican con { $tool } antes de guardar nada.
credentials-submit = Conectar
credentials-verifying = Verificando con { $tool }…
credentials-secret-hint = Se oculta al escribir y no se vuelve a mostrar.
credentials-error-summary = La conexión no ha funcionado:

field-required = Rellene { $field }.
field-pattern = { $field } no tiene el formato esperado.
field-too-long = { $field } puede tener como máximo { $max } caracteres.
field-url = Introduzca una dirección completa que empiece por https://.
field-email = Introduzca una dirección de correo electrónico válida.

verify-invalid-credentials = { $tool } no ha aceptado estas credenciales. Revíselas e inténtelo de nuevo.
verify-missing-permission = Estas credenciales funcionan, pero les falta un permiso que esta conexión necesita. Pida a un administrador de { $tool } que lo conceda e inténtelo de nuevo.
verify-wrong-instance = { $tool } no ha encontrado su cuenta en esa dirección. Revise { $fields }.
verify-rate-limited = { $tool } está recibiendo demasiadas solicitudes. Espere un minuto e inténtelo de nuevo.
verify-unreachable = No se ha podido contactar con { $tool }. Inténtelo de nuevo en un momento.
too-many-attempts = Demasiados intentos en poco tiempo. { $seconds ->
        [one] Inténtelo de nuevo dentro de { $seconds } segundo.
       *[other] Inténtelo de nuevo dentro de { $seconds } segundos.
    }
form-expired = Este formulario ha caducado. Vuelva atrás y empiece de nuevo.

success-title = { $tool } está conectado
success-body = { $organization } ya está conectada. Puede cerrar esta ventana y volver a { $product }.
success-done = Listo
success-token = Enlace de desarrollo abierto fuera de una aplicación: este es el token de activación que recibiría su back-end.

error-invalid-title = Este enlace no funciona
error-invalid-body = El enlace está incompleto o ha sido modificado. Solicite un enlace nuevo.
error-expired-title = Este enlace ha caducado
error-expired-body = Los enlaces solo son válidos durante un tiempo limitado. Solicite un enlace nuevo para continuar.
error-used-title = Este enlace ya se ha utilizado
error-used-body = Ya se completó una conexión con este enlace. Para conectar de nuevo, solicite un enlace nuevo.
error-revoked-title = Este enlace ha sido retirado
error-revoked-body = El enlace ya no es válido. Solicite un enlace nuevo.
error-gone-title = Esta conexión ya no existe
error-gone-body = La conexión que este enlace debía actualizar se ha eliminado. Solicite un enlace nuevo.
error-tool-title = Esta herramienta no se puede conectar aquí
error-tool-body = Vuelva atrás y elija otra herramienta.
error-signin-expired-title = Este inicio de sesión ha caducado
error-signin-expired-body = Ya se usó o tardó más de 10 minutos. Cierre esta ventana y vuelva a empezar.
error-server-title = Algo ha salido mal
error-server-body = Inténtelo de nuevo en un momento. Si el problema continúa, pida ayuda.
error-forbidden-body = Esta solicitud no procede de esta página. Recargue la página e inténtelo de nuevo.

model-hris_employees = Empleados
model-hris_employees-desc = Nombres, datos de contacto laborales, puestos y responsables
model-hris_employments = Relaciones laborales
model-hris_employments-desc = Contratos, tipos de empleo, fechas de inicio y fin
model-hris_absences = Ausencias
model-hris_absences-desc = Solicitudes de vacaciones y sus fechas
model-hris_absence_types = Tipos de ausencia
model-hris_absence_types-desc = Los tipos de permiso que ofrece su empresa
model-hris_time_off_balances = Saldos de vacaciones
model-hris_time_off_balances-desc = Vacaciones restantes por empleado
model-hris_teams = Equipos
model-hris_teams-desc = Departamentos, equipos y sus miembros
model-hris_locations = Centros
model-hris_locations-desc = Oficinas y centros de trabajo
model-hris_legal_entities = Entidades legales
model-hris_legal_entities-desc = Las empresas que contratan a los empleados
model-ats_jobs = Ofertas de empleo
model-ats_jobs-desc = Puestos abiertos y cerrados
model-ats_candidates = Candidatos
model-ats_candidates-desc = Nombres, datos de contacto y currículos
model-ats_applications = Candidaturas
model-ats_applications-desc = Qué candidato se presentó a qué puesto, y la fase actual
model-ats_application_stages = Fases de selección
model-ats_application_stages-desc = Los pasos de su proceso de selección
model-ats_users = Usuarios
model-ats_users-desc = Reclutadores y responsables de contratación
model-ats_interviews = Entrevistas
model-ats_interviews-desc = Entrevistas programadas y entrevistadores
model-ats_offers = Ofertas
model-ats_offers-desc = Ofertas hechas a candidatos
model-ats_tags = Etiquetas
model-ats_tags-desc = Etiquetas de los candidatos
model-lms_users = Alumnos
model-lms_users-desc = Nombres y correos electrónicos laborales
model-lms_courses = Cursos
model-lms_courses-desc = Títulos, descripciones y proveedores de los cursos
model-lms_course_progressions = Progreso de los cursos
model-lms_course_progressions-desc = Quién está inscrito en qué curso, y su finalización
model-lms_skills = Habilidades
model-lms_skills-desc = Habilidades que enseñan los cursos

# Signing in to an OAuth tool
signin-button = Iniciar sesión con { $tool }
signin-waiting = Esperando a que inicie sesión en { $tool } en la ventana que se abrió…
signin-form-title = Iniciar sesión en { $tool }
signin-form-intro = Introduzca estos datos para que podamos llevarle a su página de inicio de sesión de { $tool }.
signin-callback-done-title = Sesión iniciada
signin-callback-done = Puede cerrar esta ventana; la conexión continúa en la otra.
signin-callback-failed = Cierre esta ventana; la otra indica qué ocurrió y cómo volver a intentarlo.
signin-failed-title = No conectado
signin-denied = Se denegó el acceso en { $tool }. Para conectar, inicie sesión de nuevo y permita el acceso.
signin-vendor-error = { $tool } no pudo completar el inicio de sesión. Vuelva a intentarlo en un momento.
signin-refused = No se pudo confirmar el inicio de sesión para este navegador. Vuelva a iniciarlo desde aquí.
signin-exchange-failed = { $tool } no confirmó el inicio de sesión. Vuelva a intentarlo; si sigue fallando, contacte con soporte.
signin-unverified = Ha iniciado sesión, pero { $tool } no da a esta cuenta acceso a sus datos. Inicie sesión con una cuenta de administrador.
signin-closed = La ventana de inicio de sesión se cerró antes de terminar.
signin-blocked = Su navegador bloqueó la ventana de inicio de sesión. Permita las ventanas emergentes para este sitio o vuelva a intentarlo.
signin-link-problem = Este enlace ya no se puede usar. Solicite uno nuevo.
signin-retry = Volver a intentar
signin-pending-title = Finalizando el inicio de sesión…
