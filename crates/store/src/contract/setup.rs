//! Contract of [`crate::Setup`].

use std::sync::Arc;

use crate::Store;

/// Migrating twice keeps the same two environments.
pub async fn environments_are_created_once(store: Arc<dyn Store>) {
    let before = store.environments().await.expect("environments");
    assert_eq!(before.len(), 2);
    store.migrate().await.expect("second migration is a no-op");
    assert_eq!(store.environments().await.expect("environments"), before);
    assert_ne!(before[0].scope_config_id, before[1].scope_config_id);
}
