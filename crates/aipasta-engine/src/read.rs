//! Reading one generation back, whether it is running, just finished or long stored: a read
//! waits for that generation's own row, never for every write queued before it.

use std::sync::Arc;

use aipasta_store::generations::{self, GenerationRow};

use crate::Engine;
use crate::error::GenerationError;
use crate::live::Image;

impl Engine {
    /// The stored row of `owner`'s generation `id` (`None`: no such generation of theirs; another
    /// account's id is as unknown as a made-up one). A running generation's row is its start,
    /// status `pending`: its start may be held back briefly, so this waits for it.
    pub async fn generation(
        &self,
        id: &str,
        owner: &str,
    ) -> Result<Option<GenerationRow>, GenerationError> {
        if let Some(live) = self.live(id)
            && live.user_id == owner
        {
            live.row_written().await;
        }
        Ok(generations::find_generation(&self.db, id)
            .await?
            .filter(|row| row.user_id.as_deref() == Some(owner)))
    }

    /// Image `index` (0 first) of `owner`'s generation `id`. A running generation is waited
    /// for, and one still in memory answers from its outcome without reading the database.
    /// `None`: no such generation of theirs, or no image at that index.
    pub async fn image(
        &self,
        id: &str,
        owner: &str,
        index: usize,
    ) -> Result<Option<Image>, GenerationError> {
        if let Some(live) = self.live(id)
            && live.user_id == owner
        {
            let outcome = live.wait().await;
            if outcome.error.is_none() {
                return Ok(outcome.images.get(index).cloned());
            }
        }
        if self.generation(id, owner).await?.is_none() {
            return Ok(None);
        }
        let Ok(position) = i64::try_from(index) else {
            return Ok(None);
        };
        Ok(generations::find_asset(&self.db, id, position)
            .await?
            .map(|asset| Image {
                mime_type: asset.mime_type,
                bytes: Arc::from(asset.bytes),
            }))
    }
}
