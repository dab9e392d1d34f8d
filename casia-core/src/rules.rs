//! The data the rules read: catalog, holidays, attachment limits and the
//! receipt secret. One value, shared by the service and the runner.

use crate::attachment::AttachmentLimits;
use crate::calendar::HolidayCalendar;
use crate::catalog::Catalog;
use crate::receipt::ReceiptKey;

/// The rule data one service runs with: catalog (DOMAIN.md §2), holiday calendar (§5), attachment
/// limits (§6) and the receipt key (§8).
#[derive(Debug, Clone)]
pub struct CaseRules {
    /// The taxonomy and deadline policies.
    pub catalog: Catalog,
    /// The holidays that decide business days.
    pub calendar: HolidayCalendar,
    /// The attachment limits.
    pub limits: AttachmentLimits,
    /// The server secret receipts' verification codes are derived with.
    pub receipt_key: ReceiptKey,
}

impl CaseRules {
    /// Default catalog, default calendar, default limits and the given key.
    pub fn with_defaults(receipt_key: ReceiptKey) -> CaseRules {
        CaseRules {
            catalog: Catalog::default_catalog(),
            calendar: HolidayCalendar::default_calendar(),
            limits: AttachmentLimits::default(),
            receipt_key,
        }
    }
}
