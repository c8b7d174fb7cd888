//! The flow's texts in five languages, from Fluent files in `crates/server/locales/`, compiled
//! into the binary. A test keeps every language's set of messages identical to English.

use std::{borrow::Cow, collections::HashMap};

use fluent_templates::{
    LanguageIdentifier, Loader, fluent_bundle::FluentValue, langid, static_loader,
};

use crate::links::Language;

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Fluent wraps interpolations in Unicode isolation marks for mixed-direction text;
        // all five languages are left-to-right, and the marks would end up in attributes.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static EN: LanguageIdentifier = langid!("en");
static DE: LanguageIdentifier = langid!("de");
static FR: LanguageIdentifier = langid!("fr");
static IT: LanguageIdentifier = langid!("it");
static ES: LanguageIdentifier = langid!("es");

/// Translates for one language; handed to every template as `t`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    language: Language,
}

impl Tr {
    /// A translator for `language`.
    pub fn new(language: Language) -> Self {
        Self { language }
    }

    /// The language code for `<html lang>` and catalog texts.
    pub fn code(&self) -> &'static str {
        match self.language {
            Language::En => "en",
            Language::De => "de",
            Language::Fr => "fr",
            Language::It => "it",
            Language::Es => "es",
        }
    }

    fn id(&self) -> &'static LanguageIdentifier {
        match self.language {
            Language::En => &EN,
            Language::De => &DE,
            Language::Fr => &FR,
            Language::It => &IT,
            Language::Es => &ES,
        }
    }

    /// The message `key`.
    pub fn t(&self, key: &str) -> String {
        LOCALES.lookup(self.id(), key)
    }

    /// The message `key` with arguments, e.g. `t_with("step-of", &[("current", "2"), ("total", "4")])`.
    pub fn t_with(&self, key: &str, args: &[(&'static str, &str)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue<'_>> = args
            .iter()
            .map(|(name, value)| (Cow::Borrowed(*name), FluentValue::from(*value)))
            .collect();
        LOCALES.lookup_with_args(self.id(), key, &args)
    }

    /// The link's language when it names one, else the browser's ([`Self::from_accept_language`]).
    pub fn for_link(language: Option<Language>, accept_language: Option<&str>) -> Self {
        language.map_or_else(|| Self::from_accept_language(accept_language), Self::new)
    }

    /// The message `key` whose argument `name` is the number `count`, so Fluent picks the
    /// plural form (`1 second`, `5 seconds`) by the language's rules.
    pub fn t_count(&self, key: &str, name: &'static str, count: u64) -> String {
        let args = HashMap::from([(Cow::Borrowed(name), FluentValue::from(count))]);
        LOCALES.lookup_with_args(self.id(), key, &args)
    }

    /// The language the browser prefers among ours, from `Accept-Language`; English otherwise.
    /// Used whenever no link says which language to speak: a link created without `language`,
    /// and every page of a broken link. The browser lists its languages most preferred first;
    /// `de-CH` matches our `de`.
    pub fn from_accept_language(header: Option<&str>) -> Self {
        static AVAILABLE: [(&LanguageIdentifier, Language); 5] = [
            (&EN, Language::En),
            (&DE, Language::De),
            (&FR, Language::Fr),
            (&IT, Language::It),
            (&ES, Language::Es),
        ];
        let requested = fluent_langneg::parse_accepted_languages(header.unwrap_or_default());
        let available: Vec<&LanguageIdentifier> = AVAILABLE.iter().map(|(id, _)| *id).collect();
        let chosen = fluent_langneg::negotiate_languages(
            &requested,
            &available,
            None,
            fluent_langneg::NegotiationStrategy::Lookup,
        );
        let language = chosen
            .first()
            .and_then(|id| AVAILABLE.iter().find(|(ours, _)| ours == *id))
            .map_or(Language::En, |(_, language)| *language);
        Self::new(language)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message_ids(language: &str) -> std::collections::BTreeSet<String> {
        let path = format!("{}/locales/{language}/flow.ftl", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .lines()
            .filter(|line| !line.starts_with('#') && !line.starts_with(' '))
            .filter_map(|line| line.split_once(" = ").map(|(id, _)| id.trim().to_owned()))
            .collect()
    }

    #[test]
    fn every_language_has_every_message() {
        let english = message_ids("en");
        assert!(english.len() > 50);
        for language in ["de", "fr", "it", "es"] {
            let other = message_ids(language);
            let missing: Vec<_> = english.difference(&other).collect();
            let extra: Vec<_> = other.difference(&english).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{language}: missing {missing:?}, extra {extra:?}"
            );
        }
    }

    #[test]
    fn lookups_translate_and_interpolate() {
        let de = Tr::new(Language::De);
        assert_eq!(de.t("close"), "Schließen");
        assert_eq!(
            de.t_with("step-of", &[("current", "2"), ("total", "4")]),
            "Schritt 2 von 4"
        );
        assert_eq!(
            Tr::new(Language::Fr).t_with("success-title", &[("tool", "Personio")]),
            "Personio est connecté"
        );
    }

    #[test]
    fn counts_take_the_plural_form_of_each_language() {
        let count = |language, n| Tr::new(language).t_count("too-many-attempts", "seconds", n);
        assert!(count(Language::En, 5).ends_with("Try again in 5 seconds."));
        assert!(count(Language::En, 1).ends_with("Try again in 1 second."));
        assert!(count(Language::De, 5).ends_with("in 5 Sekunden erneut."));
        assert!(count(Language::Fr, 1).ends_with("dans 1 seconde."));
        assert!(count(Language::It, 30).ends_with("tra 30 secondi."));
        assert!(count(Language::Es, 1).ends_with("dentro de 1 segundo."));
    }

    #[test]
    fn accept_language_picks_a_supported_language() {
        assert_eq!(
            Tr::from_accept_language(Some("de-CH,de;q=0.9,en;q=0.8")).code(),
            "de"
        );
        assert_eq!(
            Tr::from_accept_language(Some("nl-NL,fr;q=0.5")).code(),
            "fr"
        );
        assert_eq!(Tr::from_accept_language(Some("nl")).code(), "en");
        assert_eq!(Tr::from_accept_language(Some("*")).code(), "en");
        assert_eq!(Tr::from_accept_language(Some("garbage;;,")).code(), "en");
        assert_eq!(Tr::from_accept_language(None).code(), "en");
        assert_eq!(Tr::for_link(None, Some("it-IT,it")).code(), "it");
        assert_eq!(Tr::for_link(Some(Language::Es), Some("it")).code(), "es");
    }
}
