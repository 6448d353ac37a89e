//! Photos of cases: uploaded first, cleaned (type by content, size and
//! pixel limits, metadata removed, thumbnail), then attached to the report
//! or action that names them.
//!
//! Who may see a photo: its uploader, and whoever may see the case it is
//! attached to. The public case page shows the photos of its public
//! timeline entries.

use serde::Serialize;
use wangge_core::org::Id;
use wangge_core::policy::Actor;
use wangge_media::PhotoLimits;
use wangge_store::{NewPhoto, PhotoMeta};

use crate::App;
use crate::error::{AppError, Resource};

/// A photo as lists show it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PhotoRef {
    pub id: Id,
    pub width: i64,
    pub height: i64,
    pub url: String,
    pub thumbnail_url: String,
}

impl PhotoRef {
    pub(crate) fn staff(m: &PhotoMeta) -> Self {
        Self {
            id: m.id,
            width: m.width,
            height: m.height,
            url: format!("/api/v1/photos/{}", m.id),
            thumbnail_url: format!("/api/v1/photos/{}/thumbnail", m.id),
        }
    }

    pub(crate) fn public(code: &str, m: &PhotoMeta) -> Self {
        Self {
            id: m.id,
            width: m.width,
            height: m.height,
            url: format!("/api/v1/public/cases/{code}/photos/{}", m.id),
            thumbnail_url: format!("/api/v1/public/cases/{code}/photos/{}?thumbnail=1", m.id),
        }
    }
}

/// Bytes to send, with their type.
#[derive(Debug, Clone)]
pub struct PhotoBytes {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl App {
    pub fn photo_limits(&self) -> PhotoLimits {
        self.photo_limits
            .read()
            .map(|l| *l)
            .unwrap_or_else(|e| *e.into_inner())
    }

    pub fn set_photo_limits(&self, limits: PhotoLimits) {
        if let Ok(mut l) = self.photo_limits.write() {
            *l = limits;
        }
    }

    /// Checks, cleans and stores a photo; it stays the uploader's until a
    /// report or action attaches it.
    pub async fn upload_photo(&self, actor: &Actor, bytes: Vec<u8>) -> Result<PhotoRef, AppError> {
        let limits = self.photo_limits();
        // Decoding is CPU work: keep it off the request threads.
        let clean = tokio::task::spawn_blocking(move || wangge_media::clean(&bytes, limits))
            .await
            .map_err(|e| AppError::Internal(format!("photo worker: {e}")))?
            .map_err(AppError::Photo)?;
        let now = self.now();
        let photo = NewPhoto {
            uploaded_by: actor.user_id,
            at: now,
            content_type: clean.content_type.to_owned(),
            width: i64::from(clean.width),
            height: i64::from(clean.height),
            bytes: clean.bytes,
            thumbnail: clean.thumbnail,
        };
        let (width, height) = (photo.width, photo.height);
        let id = self.store.insert_photo(photo).await?;
        Ok(PhotoRef::staff(&PhotoMeta {
            id,
            uploaded_by: actor.user_id,
            uploaded_at: now,
            case_id: None,
            event_id: None,
            content_type: String::new(),
            width,
            height,
        }))
    }

    /// Checks that photos named by a report or action are the actor's own
    /// unattached uploads (the store checks again when attaching).
    pub(crate) async fn check_photos(&self, actor: &Actor, ids: &[Id]) -> Result<(), AppError> {
        if ids.len() > 9 {
            return Err(AppError::invalid(
                "photos",
                "at most 9 photos",
                "最多 9 张照片",
            ));
        }
        for id in ids {
            match self.store.photo_meta(*id).await? {
                Some(m) if m.uploaded_by == actor.user_id && m.case_id.is_none() => {}
                _ => {
                    return Err(AppError::invalid(
                        "photos",
                        format!("photo {id} is not one you uploaded for this"),
                        format!("照片 {id} 不存在或已被使用，请重新上传"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// A photo (or its thumbnail) for someone who may see it.
    pub async fn photo(
        &self,
        actor: &Actor,
        id: Id,
        thumbnail: bool,
    ) -> Result<PhotoBytes, AppError> {
        let meta = self
            .store
            .photo_meta(id)
            .await?
            .ok_or(AppError::NotFound(Resource::Photo))?;
        let allowed = meta.uploaded_by == actor.user_id
            || match meta.case_id {
                Some(case) => self.case_view(actor, case).await.is_ok(),
                None => false,
            };
        if !allowed {
            return Err(AppError::NotFound(Resource::Photo));
        }
        self.photo_bytes(&meta, thumbnail).await
    }

    /// A photo of a public timeline entry of a public case.
    pub async fn public_photo(
        &self,
        code: &str,
        id: Id,
        thumbnail: bool,
    ) -> Result<PhotoBytes, AppError> {
        let view = self.public_case(code).await?;
        let shown = view
            .timeline
            .iter()
            .any(|e| e.photos.iter().any(|p| p.id == id));
        if !shown {
            return Err(AppError::NotFound(Resource::Photo));
        }
        let meta = self
            .store
            .photo_meta(id)
            .await?
            .ok_or(AppError::NotFound(Resource::Photo))?;
        self.photo_bytes(&meta, thumbnail).await
    }

    async fn photo_bytes(&self, meta: &PhotoMeta, thumbnail: bool) -> Result<PhotoBytes, AppError> {
        let (bytes, thumb) = self
            .store
            .photo_bytes(meta.id)
            .await?
            .ok_or(AppError::NotFound(Resource::Photo))?;
        Ok(if thumbnail {
            PhotoBytes {
                content_type: "image/jpeg".into(),
                bytes: thumb,
            }
        } else {
            PhotoBytes {
                content_type: meta.content_type.clone(),
                bytes,
            }
        })
    }
}
