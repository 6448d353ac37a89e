use wangge_core::i18n::{Lang, Localized};
use wangge_core::register::FieldError;
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
    /// Several fields of a form are wrong; nothing was saved.
    #[error("{} field(s) are invalid", .0.len())]
    InvalidFields(Vec<FieldError>),
    #[error("conflict: {0}")]
    Conflict(String),
    /// A field-work step not possible in the record's present state (a
    /// patrol already going, a target already done), with the reason.
    #[error("not now: {message}")]
    NotNow { message: String, message_zh: String },
    /// Open cases of the same kind close by: shown before filing again.
    #[error("{} likely duplicate case(s) nearby", .0.len())]
    LikelyDuplicates(Vec<crate::cases::NearbyCase>),
    /// A workflow action not allowed now, with the reason.
    #[error("refused: {0}")]
    Refused(wangge_core::workflow::Refusal),
    /// Wrong username or password, a locked or a disabled account: one
    /// answer for all, so that none can be told from another.
    #[error("login failed")]
    LoginFailed,
    /// No live session: sign in (again).
    #[error("not signed in")]
    Unauthenticated,
    /// A cookie-session request without its CSRF token.
    #[error("missing or wrong CSRF token")]
    Csrf,
    /// A photo refused by type, size or pixels; nothing was stored.
    #[error("photo refused: {0}")]
    Photo(wangge_media::PhotoError),
    /// The caller may not do this at all (not: this record is out of scope).
    #[error("forbidden")]
    Forbidden,
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Store(StoreError),
}

/// Kinds of record, for "not found" messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Grid,
    Community,
    Building,
    Household,
    Resident,
    Business,
    Case,
    Photo,
    Webhook,
    /// An Open311 service (a public category).
    Service,
    User,
    Patrol,
    Visit,
    Referral,
    Campaign,
    /// A campaign target.
    Target,
    /// A QR check-in token.
    Token,
    Opinion,
    Notice,
    /// An API path that does not exist.
    Route,
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Resource::Grid => "grid",
            Resource::Community => "community",
            Resource::Building => "building",
            Resource::Household => "household",
            Resource::Resident => "resident",
            Resource::Business => "business",
            Resource::Case => "case",
            Resource::Photo => "photo",
            Resource::Webhook => "webhook",
            Resource::Service => "service",
            Resource::User => "user",
            Resource::Patrol => "patrol",
            Resource::Visit => "visit",
            Resource::Referral => "referral",
            Resource::Campaign => "campaign",
            Resource::Target => "campaign target",
            Resource::Token => "QR code",
            Resource::Opinion => "opinion",
            Resource::Notice => "notice",
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
    pub fn not_now(message: impl Into<String>, message_zh: impl Into<String>) -> Self {
        AppError::NotNow {
            message: message.into(),
            message_zh: message_zh.into(),
        }
    }

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
            AppError::NotFound(Resource::Household) => "household_not_found",
            AppError::NotFound(Resource::Resident) => "resident_not_found",
            AppError::NotFound(Resource::Business) => "business_not_found",
            AppError::NotFound(Resource::Case) => "case_not_found",
            AppError::NotFound(Resource::Photo) => "photo_not_found",
            AppError::NotFound(Resource::Webhook) => "webhook_not_found",
            AppError::NotFound(Resource::Service) => "service_not_found",
            AppError::Photo(wangge_media::PhotoError::TooLarge { .. }) => "photo_too_large",
            AppError::Photo(wangge_media::PhotoError::UnsupportedType) => "unsupported_photo_type",
            AppError::Photo(wangge_media::PhotoError::TooManyPixels { .. }) => {
                "photo_too_many_pixels"
            }
            AppError::Photo(_) => "photo_unreadable",
            AppError::Forbidden => "forbidden",
            AppError::Refused(_) => "action_refused",
            AppError::LikelyDuplicates(_) => "likely_duplicate",
            AppError::NotFound(Resource::User) => "user_not_found",
            AppError::NotFound(Resource::Patrol) => "patrol_not_found",
            AppError::NotFound(Resource::Visit) => "visit_not_found",
            AppError::NotFound(Resource::Referral) => "referral_not_found",
            AppError::NotFound(Resource::Campaign) => "campaign_not_found",
            AppError::NotFound(Resource::Target) => "target_not_found",
            AppError::NotFound(Resource::Token) => "qr_token_not_found",
            AppError::NotFound(Resource::Opinion) => "opinion_not_found",
            AppError::NotFound(Resource::Notice) => "notice_not_found",
            AppError::NotNow { .. } => "not_now",
            AppError::NotFound(Resource::Route) => "not_found",
            AppError::Invalid { .. } | AppError::InvalidFields(_) => "invalid_input",
            AppError::LoginFailed => "login_failed",
            AppError::Unauthenticated => "unauthenticated",
            AppError::Csrf => "csrf_rejected",
            AppError::Internal(_) => "internal_error",
            AppError::BadBoundaries(_) => "invalid_boundaries",
            AppError::Conflict(_) => "conflict",
            AppError::Store(_) => "storage_error",
        }
    }

    /// The field at fault, for forms and API clients.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            AppError::Invalid { field, .. } => Some(field),
            AppError::InvalidFields(errors) => errors.first().map(|e| e.field),
            _ => None,
        }
    }

    /// Every field error, for forms (one per wrong field).
    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            AppError::Invalid {
                field,
                message,
                message_zh,
            } => vec![FieldError::new(field, message.clone(), message_zh.clone())],
            AppError::InvalidFields(errors) => errors.clone(),
            _ => Vec::new(),
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
                    Resource::Household => "住户",
                    Resource::Resident => "居民",
                    Resource::Business => "商户",
                    Resource::Case => "事件",
                    Resource::Photo => "照片",
                    Resource::Webhook => "推送地址",
                    Resource::Service => "服务类别",
                    Resource::User => "用户",
                    Resource::Patrol => "巡查记录",
                    Resource::Visit => "走访记录",
                    Resource::Referral => "帮扶记录",
                    Resource::Campaign => "专项工作",
                    Resource::Target => "工作对象",
                    Resource::Token => "二维码",
                    Resource::Opinion => "民意记录",
                    Resource::Notice => "宣传通知",
                    Resource::Route => "资源",
                }
            ),
            (AppError::NotFound(r), Lang::En) => format!("{r} not found, or not yours to see"),
            (AppError::Invalid { message_zh, .. }, Lang::Zh) => message_zh.clone(),
            (AppError::Invalid { message, .. }, Lang::En) => message.clone(),
            (AppError::InvalidFields(errors), lang) => {
                let head = match lang {
                    Lang::Zh => "填写有误，未保存：",
                    Lang::En => "not saved, please correct: ",
                };
                let list: Vec<String> = errors
                    .iter()
                    .map(|e| format!("{} {}", e.field, e.message(lang)))
                    .collect();
                format!("{head}{}", list.join("; "))
            }
            (AppError::LoginFailed, Lang::Zh) => {
                "用户名或密码不正确（连续输错 5 次将锁定 30 分钟）".to_owned()
            }
            (AppError::LoginFailed, Lang::En) => {
                "wrong username or password (5 failures lock the account for 30 minutes)".to_owned()
            }
            (AppError::Unauthenticated, Lang::Zh) => "请先登录".to_owned(),
            (AppError::Unauthenticated, Lang::En) => "please sign in".to_owned(),
            (AppError::Csrf, Lang::Zh) => "页面已过期，请刷新后重试".to_owned(),
            (AppError::Csrf, Lang::En) => {
                "this page has expired; reload it and try again".to_owned()
            }
            (AppError::Photo(e), Lang::Zh) => e.zh(),
            (AppError::Photo(e), Lang::En) => e.to_string(),
            (AppError::Forbidden, Lang::Zh) => "您的角色无权进行此操作".to_owned(),
            (AppError::Forbidden, Lang::En) => "your role may not do this".to_owned(),
            (AppError::Internal(_), Lang::Zh) => "服务器内部错误".to_owned(),
            (AppError::Internal(_), Lang::En) => "internal server error".to_owned(),
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
            (AppError::Refused(r), lang) => r.localized(lang),
            (AppError::LikelyDuplicates(list), Lang::Zh) => {
                format!("附近已有 {} 件同类事件正在办理", list.len())
            }
            (AppError::LikelyDuplicates(list), Lang::En) => {
                format!("{} open case(s) of the same kind nearby", list.len())
            }
            (AppError::NotNow { message_zh, .. }, Lang::Zh) => message_zh.clone(),
            (AppError::NotNow { message, .. }, Lang::En) => message.clone(),
            (AppError::Conflict(m), Lang::Zh) => format!("数据已被他人修改或与现有记录冲突：{m}"),
            (AppError::Conflict(m), Lang::En) => format!("conflict with existing data: {m}"),
            (AppError::Store(_), Lang::Zh) => "服务器存储出错，请稍后重试".to_owned(),
            (AppError::Store(_), Lang::En) => {
                "the server could not reach its storage; please try again later".to_owned()
            }
        }
    }
}
