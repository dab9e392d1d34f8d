//! The data the rules read: catalog, holidays, attachment limits and the
//! receipt secret. One value, shared by the service and the runner.

use crate::attachment::AttachmentLimits;
use crate::calendar::HolidayCalendar;
use crate::catalog::Catalog;
use crate::receipt::ReceiptKey;

#[derive(Debug, Clone)]
pub struct CaseRules {
    pub catalog: Catalog,
    pub calendar: HolidayCalendar,
    pub limits: AttachmentLimits,
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
