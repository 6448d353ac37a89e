use wangge_core::i18n::{Lang, Localized};
use wangge_geo::FeatureError;
use wangge_store::StoreError;

/// A use case's failure, with a stable code for API clients and a message
/// in the reader's language.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0} not found")]
    NotFound(Resource),
    #[error("invalid {field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
        message_zh: String,
    },
    #[error("the boundary file has {} problem(s)", .0.len())]
    BadBoundaries(Vec<FeatureError>),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(transparent)]
    Store(StoreError),
}

/// Kinds of record, for "not found" messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Grid,
    Community,
    Building,
    /// An API path that does not exist.
    Route,
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Resource::Grid => "grid",
            Resource::Community => "community",
            Resource::Building => "building",
            Resource::Route => "resource",
        })
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => AppError::Conflict(m),
            other => AppError::Store(other),
        }
    }
}

impl AppError {
    pub fn invalid(
        field: &'static str,
        message: impl Into<String>,
        message_zh: impl Into<String>,
    ) -> Self {
        AppError::Invalid {
            field,
            message: message.into(),
            message_zh: message_zh.into(),
        }
    }

    /// A stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound(Resource::Grid) => "grid_not_found",
            AppError::NotFound(Resource::Community) => "community_not_found",
            AppError::NotFound(Resource::Building) => "building_not_found",
            AppError::NotFound(Resource::Route) => "not_found",
            AppError::Invalid { .. } => "invalid_input",
            AppError::BadBoundaries(_) => "invalid_boundaries",
            AppError::Conflict(_) => "conflict",
            AppError::Store(_) => "storage_error",
        }
    }

    /// The field at fault, for forms and API clients.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            AppError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl Localized for AppError {
    fn localized(&self, lang: Lang) -> String {
        match (self, lang) {
            (AppError::NotFound(r), Lang::Zh) => format!(
                "找不到该{}，或您无权查看",
                match r {
                    Resource::Grid => "网格",
                    Resource::Community => "社区",
                    Resource::Building => "楼栋",
                    Resource::Route => "资源",
                }
            ),
            (AppError::NotFound(r), Lang::En) => format!("{r} not found, or not yours to see"),
            (AppError::Invalid { message_zh, .. }, Lang::Zh) => message_zh.clone(),
            (AppError::Invalid { message, .. }, Lang::En) => message.clone(),
            (AppError::BadBoundaries(errors), lang) => {
                let head = match lang {
                    Lang::Zh => format!("边界文件有 {} 处问题，未导入任何内容", errors.len()),
                    Lang::En => format!(
                        "the boundary file has {} problem(s); nothing was imported",
                        errors.len()
                    ),
                };
                std::iter::once(head)
                    .chain(errors.iter().map(|e| e.localized(lang)))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
            (AppError::Conflict(m), Lang::Zh) => format!("数据已被他人修改或与现有记录冲突：{m}"),
            (AppError::Conflict(m), Lang::En) => format!("conflict with existing data: {m}"),
            (AppError::Store(_), Lang::Zh) => "服务器存储出错，请稍后重试".to_owned(),
            (AppError::Store(_), Lang::En) => {
                "the server could not reach its storage; please try again later".to_owned()
            }
        }
    }
}
