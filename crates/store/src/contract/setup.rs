//! Contract of [`crate::Setup`].

use std::sync::Arc;

use crate::{EnvironmentName, Store};

/// Migrating twice keeps the same two environments.
pub async fn environments_are_created_once(store: Arc<dyn Store>) {
    let before = store.environments().await.expect("environments");
    assert_eq!(before.len(), 2);
    store.migrate().await.expect("second migration is a no-op");
    assert_eq!(store.environments().await.expect("environments"), before);
    assert_ne!(before[0].scope_config_id, before[1].scope_config_id);
}

/// An environment's settings are saved, replaced, and read back per environment.
pub async fn environment_settings_are_saved_per_environment(store: Arc<dyn Store>) {
    use crate::EnvironmentSettings;
    assert!(store.environment_settings().await.expect("read").is_empty());
    let dev = super::environment_id(&*store, EnvironmentName::Development).await;
    let mut settings = EnvironmentSettings {
        environment_id: dev.clone(),
        product_name: Some("Acme HR".into()),
        frame_ancestors: Some("https://app.acme.example".into()),
        updated_at: super::millis_now(),
    };
    store
        .save_environment_settings(&settings)
        .await
        .expect("save");
    assert_eq!(
        store.environment_settings().await.expect("read"),
        vec![settings.clone()]
    );
    settings.product_name = None;
    settings.updated_at += chrono::Duration::seconds(1);
    store
        .save_environment_settings(&settings)
        .await
        .expect("replace");
    assert_eq!(
        store.environment_settings().await.expect("read"),
        vec![settings]
    );
}
