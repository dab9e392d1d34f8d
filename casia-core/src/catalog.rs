//! The catalog (taxonomy) of DOMAIN.md §2: case type → materia → category →
//! subcategory, document types, deadline policies. It is data: loaded from
//! JSON, checked against every rule of §2, with faults naming their JSON path.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::complementary::FieldCode;
use crate::error::CasiaError;

/// The three case types (tipo de caso), DOMAIN.md §2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseType {
    /// `inquiry` — Consulta: a question.
    Inquiry,
    /// `incident` — Error/Incidencia: an error met while filing.
    Incident,
    /// `procedure` — Trámite: a request for a TGSS procedure.
    Procedure,
}

impl CaseType {
    /// The three types, in DOMAIN.md §2 order.
    pub const ALL: [CaseType; 3] = [CaseType::Inquiry, CaseType::Incident, CaseType::Procedure];

    /// The wire code: `inquiry`, `incident` or `procedure`.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseType::Inquiry => "inquiry",
            CaseType::Incident => "incident",
            CaseType::Procedure => "procedure",
        }
    }

    /// Parses a wire code; `None` for anything else.
    pub fn parse(s: &str) -> Option<CaseType> {
        CaseType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The Spanish label: Consulta, Error/Incidencia, Trámite.
    pub fn label_es(self) -> &'static str {
        match self {
            CaseType::Inquiry => "Consulta",
            CaseType::Incident => "Error/Incidencia",
            CaseType::Procedure => "Trámite",
        }
    }

    /// The policy when the catalog gives none (DOMAIN.md §2).
    pub fn default_deadline(self) -> DeadlinePolicy {
        match self {
            CaseType::Inquiry | CaseType::Incident => DeadlinePolicy {
                days: 20,
                unit: DeadlineUnit::Calendar,
            },
            CaseType::Procedure => DeadlinePolicy {
                days: 10,
                unit: DeadlineUnit::Business,
            },
        }
    }
}

impl fmt::Display for CaseType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a deadline's days are counted (DOMAIN.md §5; Ley 39/2015 art. 30).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineUnit {
    /// `calendar` — `d0 + n` calendar days, moved to the next business day if needed (art. 30.5).
    Calendar,
    /// `business` — the n-th business day after `d0` (art. 30.2).
    Business,
}

impl DeadlineUnit {
    /// The wire form: `calendar` or `business`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineUnit::Calendar => "calendar",
            DeadlineUnit::Business => "business",
        }
    }
}

/// A documentation deadline policy: `days` (1–365) of `unit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DeadlinePolicy {
    /// How many days, 1–365.
    pub days: u16,
    /// Whether `days` are calendar or business days.
    pub unit: DeadlineUnit,
}

/// A document type (tipo de documento) that attachments are classified by, e.g. `identity`, `ta1`,
/// `other`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentType {
    /// The code, `[a-z0-9_]{1,40}`, unique in the catalog.
    pub code: String,
    /// The Spanish label shown to people, e.g. "Documento de identidad".
    pub label: String,
}

/// A subcategory: the leaf of a classification path, with what a submission under it must carry
/// (DOMAIN.md §2, §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subcategory {
    /// The code, `[a-z0-9_]{1,40}`, unique among its siblings.
    pub code: String,
    /// The Spanish label.
    pub label: String,
    /// Groups of complementary-data fields; at least one field of each group must be given at
    /// submission (`missing_complementary_data`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_data: Vec<Vec<FieldCode>>,
    /// Document-type codes that must be attached at submission (`missing_required_documents`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_documents: Vec<String>,
    /// When set, CASIA does not process this topic: picking it fails with `not_handled_by_casia`
    /// and this message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_handled: Option<String>,
}

/// A category of a materia.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    /// The code, `[a-z0-9_]{1,40}`, unique among its siblings.
    pub code: String,
    /// The Spanish label.
    pub label: String,
    /// At least one subcategory.
    pub subcategories: Vec<Subcategory>,
}

/// A materia (subject area) of a case type, e.g. `afiliacion`, `cotizacion`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Materia {
    /// The code, `[a-z0-9_]{1,40}`, unique among its siblings.
    pub code: String,
    /// The Spanish label.
    pub label: String,
    /// At least one category.
    pub categories: Vec<Category>,
}

/// One case type of the catalog, with its deadline policy and materias.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseTypeEntry {
    /// Which case type; each appears at most once.
    pub code: CaseType,
    /// The documentation deadline policy; the type's default when the file omits it (DOMAIN.md §2).
    pub deadline: DeadlinePolicy,
    /// The type's materias.
    pub materias: Vec<Materia>,
}

/// A loaded, checked catalog. Deserialising runs every load rule of
/// DOMAIN.md §2 ([`Catalog::from_value`]), so an unchecked catalog cannot
/// come in through serde.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Value")]
pub struct Catalog {
    /// The document types attachments may be classified as.
    pub document_types: Vec<DocumentType>,
    /// The case types offered; a catalog may omit a type.
    pub case_types: Vec<CaseTypeEntry>,
}

/// One fault of a catalog file, at a JSON path such as
/// `$.case_types[0].materias[2].code`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct CatalogFault {
    /// The JSON path of the fault, e.g. `$.case_types[0].code`.
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

/// A classification path resolved against the catalog.
#[derive(Debug, Clone, Copy)]
pub struct Classified<'c> {
    /// The case type's entry.
    pub case_type: &'c CaseTypeEntry,
    /// The materia.
    pub materia: &'c Materia,
    /// The category.
    pub category: &'c Category,
    /// The subcategory (never a `not_handled` one).
    pub subcategory: &'c Subcategory,
}

const DEFAULT_CATALOG_JSON: &str = include_str!("../data/default_catalog.json");

impl TryFrom<Value> for Catalog {
    type Error = String;
    fn try_from(value: Value) -> Result<Self, String> {
        Catalog::from_value(&value).map_err(|faults| {
            faults
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        })
    }
}

impl Catalog {
    /// The catalog shipped with the crate (DOMAIN.md §2 "default catalog").
    pub fn default_catalog() -> Catalog {
        match Catalog::from_json(DEFAULT_CATALOG_JSON) {
            Ok(c) => c,
            // The shipped file is checked by a test; failing here is a build defect.
            Err(e) => panic!("the shipped default catalog is invalid: {e}"),
        }
    }

    /// Loads and checks a catalog; the error names the first fault's path.
    ///
    /// # Errors
    ///
    /// A [`CatalogFault`] at `$` when the text is not JSON, else the first
    /// rule of DOMAIN.md §2 broken, at its JSON path (bad or duplicate code,
    /// empty label, unknown field or document-type code, empty level,
    /// `days` outside 1–365, …).
    ///
    /// # Examples
    ///
    /// ```rust
    /// use casia_core::catalog::{Catalog, DeadlineUnit};
    /// use casia_core::CaseType;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let catalog = Catalog::from_json(r#"{
    ///   "document_types": [{"code": "identity", "label": "Documento de identidad"}],
    ///   "case_types": [{
    ///     "code": "procedure",
    ///     "materias": [{"code": "afiliacion", "label": "Afiliación",
    ///       "categories": [{"code": "altas", "label": "Altas",
    ///         "subcategories": [{"code": "nss", "label": "Solicitud de NSS",
    ///           "required_data": [["naf", "nif"]],
    ///           "required_documents": ["identity"]}]}]}]
    ///   }]
    /// }"#)?;
    /// // No `deadline` given: a procedure defaults to 10 business days.
    /// let policy = catalog.deadline_policy(CaseType::Procedure);
    /// assert_eq!((policy.days, policy.unit), (10, DeadlineUnit::Business));
    ///
    /// // A code with an upper-case letter is a fault at its JSON path.
    /// let fault = Catalog::from_json(
    ///     r#"{"document_types": [{"code": "DNI", "label": "DNI"}], "case_types": []}"#,
    /// )
    /// .expect_err("upper-case code");
    /// assert_eq!(fault.path, "$.document_types[0].code");
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_json(json: &str) -> Result<Catalog, CatalogFault> {
        Catalog::check_json(json).map_err(|mut faults| faults.swap_remove(0))
    }

    /// Loads and checks a catalog, reporting every fault found.
    ///
    /// # Errors
    ///
    /// Every [`CatalogFault`] found, in document order (one at `$` when the
    /// text is not JSON).
    pub fn check_json(json: &str) -> Result<Catalog, Vec<CatalogFault>> {
        let value: Value = serde_json::from_str(json).map_err(|e| {
            vec![CatalogFault {
                path: "$".into(),
                message: format!("not valid JSON: {e}"),
            }]
        })?;
        Catalog::from_value(&value)
    }

    /// Checks an already parsed JSON value (e.g. a scenario's `catalog`).
    ///
    /// # Errors
    ///
    /// Every [`CatalogFault`] found, in document order.
    pub fn from_value(value: &Value) -> Result<Catalog, Vec<CatalogFault>> {
        let mut loader = Loader { faults: Vec::new() };
        let catalog = loader.catalog(value);
        match catalog {
            Some(c) if loader.faults.is_empty() => Ok(c),
            _ => {
                if loader.faults.is_empty() {
                    loader.fault("$", "invalid catalog");
                }
                Err(loader.faults)
            }
        }
    }

    /// What differs from `before`, one line per added, removed or changed
    /// subcategory path, document type or deadline policy (logged when
    /// `serve` reloads the catalog).
    pub fn changes_since(&self, before: &Catalog) -> Vec<String> {
        use std::collections::BTreeMap;
        fn entries(c: &Catalog) -> BTreeMap<String, String> {
            let mut out = BTreeMap::new();
            for d in &c.document_types {
                out.insert(format!("document type {}", d.code), d.label.clone());
            }
            for t in &c.case_types {
                out.insert(
                    format!("{} deadline", t.code),
                    format!("{} {}", t.deadline.days, t.deadline.unit.as_str()),
                );
                for m in &t.materias {
                    for cat in &m.categories {
                        for sub in &cat.subcategories {
                            out.insert(
                                format!("{}/{}/{}/{}", t.code, m.code, cat.code, sub.code),
                                serde_json::to_string(&(&m.label, &cat.label, sub))
                                    .unwrap_or_default(),
                            );
                        }
                    }
                }
            }
            out
        }
        let (old, new) = (entries(before), entries(self));
        let mut lines = Vec::new();
        for (k, v) in &new {
            match old.get(k) {
                None => lines.push(format!("+ {k}")),
                Some(o) if o != v => lines.push(format!("~ {k}")),
                Some(_) => {}
            }
        }
        lines.extend(
            old.keys()
                .filter(|k| !new.contains_key(*k))
                .map(|k| format!("- {k}")),
        );
        lines
    }

    /// The entry of a case type; `None` when the catalog omits it.
    pub fn case_type(&self, t: CaseType) -> Option<&CaseTypeEntry> {
        self.case_types.iter().find(|e| e.code == t)
    }

    /// The document type with this code, if the catalog has it.
    pub fn document_type(&self, code: &str) -> Option<&DocumentType> {
        self.document_types.iter().find(|d| d.code == code)
    }

    /// The deadline policy of a case type (the default one when the catalog
    /// omits the type).
    pub fn deadline_policy(&self, t: CaseType) -> DeadlinePolicy {
        self.case_type(t)
            .map_or_else(|| t.default_deadline(), |e| e.deadline)
    }

    /// Resolves a path; a missing level is `invalid_classification` naming
    /// that level, a `not_handled` subcategory is `not_handled_by_casia`
    /// with its message (DOMAIN.md §2).
    ///
    /// # Errors
    ///
    /// - [`CasiaError::InvalidClassification`] naming `case_type` (unknown
    ///   code, or a type the catalog omits), `materia`, `category` or
    ///   `subcategory`: the first level not found;
    /// - [`CasiaError::NotHandledByCasia`] carrying the subcategory's
    ///   `not_handled` message.
    ///
    /// # Examples
    ///
    /// ```rust
    /// use casia_core::{Catalog, CasiaError};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let catalog = Catalog::default_catalog();
    /// let path = catalog.classify("procedure", "afiliacion", "altas", "nss")?;
    /// assert_eq!(path.subcategory.required_documents, ["ta1", "identity"]);
    ///
    /// let err = catalog
    ///     .classify("procedure", "afiliacion", "altas", "no_such")
    ///     .expect_err("unknown subcategory");
    /// assert!(matches!(
    ///     err,
    ///     CasiaError::InvalidClassification { ref field } if field == "subcategory"
    /// ));
    ///
    /// // Aplazamientos are a known topic that CASIA does not process.
    /// let err = catalog
    ///     .classify("procedure", "cotizacion", "aplazamientos", "solicitud")
    ///     .expect_err("not handled");
    /// assert!(matches!(err, CasiaError::NotHandledByCasia { .. }));
    /// # Ok(())
    /// # }
    /// ```
    pub fn classify(
        &self,
        case_type: &str,
        materia: &str,
        category: &str,
        subcategory: &str,
    ) -> Result<Classified<'_>, CasiaError> {
        let missing = |field: &str| CasiaError::InvalidClassification {
            field: field.to_owned(),
        };
        let t = CaseType::parse(case_type)
            .and_then(|t| self.case_type(t))
            .ok_or_else(|| missing("case_type"))?;
        let m = t
            .materias
            .iter()
            .find(|m| m.code == materia)
            .ok_or_else(|| missing("materia"))?;
        let c = m
            .categories
            .iter()
            .find(|c| c.code == category)
            .ok_or_else(|| missing("category"))?;
        let s = c
            .subcategories
            .iter()
            .find(|s| s.code == subcategory)
            .ok_or_else(|| missing("subcategory"))?;
        if let Some(message) = &s.not_handled {
            return Err(CasiaError::NotHandledByCasia {
                message: message.clone(),
            });
        }
        Ok(Classified {
            case_type: t,
            materia: m,
            category: c,
            subcategory: s,
        })
    }
}

fn is_code(s: &str) -> bool {
    (1..=40).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Walks the JSON value collecting every fault with its path.
struct Loader {
    faults: Vec<CatalogFault>,
}

impl Loader {
    fn fault(&mut self, path: &str, message: impl Into<String>) {
        self.faults.push(CatalogFault {
            path: path.to_owned(),
            message: message.into(),
        });
    }

    fn object<'v>(
        &mut self,
        v: &'v Value,
        path: &str,
        allowed: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let Some(obj) = v.as_object() else {
            self.fault(path, "expected an object");
            return None;
        };
        for key in obj.keys() {
            if !allowed.contains(&key.as_str()) {
                self.fault(&format!("{path}.{key}"), "unknown key");
            }
        }
        Some(obj)
    }

    fn array<'v>(&mut self, obj: &'v Map<String, Value>, key: &str, path: &str) -> &'v [Value] {
        match obj.get(key) {
            Some(Value::Array(a)) => a,
            Some(_) => {
                self.fault(&format!("{path}.{key}"), "expected an array");
                &[]
            }
            None => {
                self.fault(&format!("{path}.{key}"), "missing");
                &[]
            }
        }
    }

    fn code(&mut self, obj: &Map<String, Value>, path: &str) -> Option<String> {
        match obj.get("code") {
            Some(Value::String(s)) if is_code(s) => Some(s.clone()),
            Some(Value::String(_)) => {
                self.fault(&format!("{path}.code"), "a code must match [a-z0-9_]{1,40}");
                None
            }
            Some(_) => {
                self.fault(&format!("{path}.code"), "expected a string");
                None
            }
            None => {
                self.fault(&format!("{path}.code"), "missing");
                None
            }
        }
    }

    fn label(&mut self, obj: &Map<String, Value>, path: &str) -> Option<String> {
        match obj.get("label") {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            Some(Value::String(_)) => {
                self.fault(&format!("{path}.label"), "a label must not be empty");
                None
            }
            Some(_) => {
                self.fault(&format!("{path}.label"), "expected a string");
                None
            }
            None => {
                self.fault(&format!("{path}.label"), "missing");
                None
            }
        }
    }

    /// Records a duplicate sibling code.
    fn unique(&mut self, seen: &mut HashSet<String>, code: &Option<String>, path: &str) {
        if let Some(c) = code
            && !seen.insert(c.clone())
        {
            self.fault(
                &format!("{path}.code"),
                format!("duplicate code {c:?} among siblings"),
            );
        }
    }

    fn catalog(&mut self, v: &Value) -> Option<Catalog> {
        let obj = self.object(v, "$", &["document_types", "case_types"])?;
        let mut document_types = Vec::new();
        let mut seen = HashSet::new();
        for (i, d) in self.array(obj, "document_types", "$").iter().enumerate() {
            let path = format!("$.document_types[{i}]");
            let Some(o) = self.object(d, &path, &["code", "label"]) else {
                continue;
            };
            let code = self.code(o, &path);
            self.unique(&mut seen, &code, &path);
            let label = self.label(o, &path);
            if let (Some(code), Some(label)) = (code, label) {
                document_types.push(DocumentType { code, label });
            }
        }
        let doc_codes: HashSet<String> = document_types.iter().map(|d| d.code.clone()).collect();
        let mut case_types = Vec::new();
        let mut seen_types = HashSet::new();
        for (i, t) in self.array(obj, "case_types", "$").iter().enumerate() {
            let path = format!("$.case_types[{i}]");
            if let Some(entry) = self.case_type(t, &path, &doc_codes) {
                if seen_types.insert(entry.code) {
                    case_types.push(entry);
                } else {
                    self.fault(&format!("{path}.code"), "case type listed twice");
                }
            }
        }
        Some(Catalog {
            document_types,
            case_types,
        })
    }

    fn case_type(
        &mut self,
        v: &Value,
        path: &str,
        doc_codes: &HashSet<String>,
    ) -> Option<CaseTypeEntry> {
        let obj = self.object(v, path, &["code", "deadline", "materias"])?;
        let code = match obj.get("code").and_then(Value::as_str) {
            Some(s) => match CaseType::parse(s) {
                Some(t) => Some(t),
                None => {
                    self.fault(
                        &format!("{path}.code"),
                        "must be one of inquiry, incident, procedure",
                    );
                    None
                }
            },
            None => {
                self.fault(&format!("{path}.code"), "missing or not a string");
                None
            }
        };
        let deadline = match obj.get("deadline") {
            None => code.map(CaseType::default_deadline),
            Some(d) => self.deadline(d, &format!("{path}.deadline")),
        };
        let mut materias = Vec::new();
        let mut seen = HashSet::new();
        for (i, m) in self.array(obj, "materias", path).iter().enumerate() {
            let mpath = format!("{path}.materias[{i}]");
            let Some(mo) = self.object(m, &mpath, &["code", "label", "categories"]) else {
                continue;
            };
            let mcode = self.code(mo, &mpath);
            self.unique(&mut seen, &mcode, &mpath);
            let mlabel = self.label(mo, &mpath);
            let categories = self.categories(mo, &mpath, doc_codes);
            if let (Some(code), Some(label)) = (mcode, mlabel) {
                materias.push(Materia {
                    code,
                    label,
                    categories,
                });
            }
        }
        Some(CaseTypeEntry {
            code: code?,
            deadline: deadline?,
            materias,
        })
    }

    fn deadline(&mut self, v: &Value, path: &str) -> Option<DeadlinePolicy> {
        let obj = self.object(v, path, &["days", "unit"])?;
        let days = match obj.get("days").and_then(Value::as_u64) {
            Some(d) if (1..=365).contains(&d) => u16::try_from(d).ok(),
            _ => {
                self.fault(
                    &format!("{path}.days"),
                    "must be a whole number from 1 to 365",
                );
                None
            }
        };
        let unit = match obj.get("unit").and_then(Value::as_str) {
            Some("calendar") => Some(DeadlineUnit::Calendar),
            Some("business") => Some(DeadlineUnit::Business),
            _ => {
                self.fault(
                    &format!("{path}.unit"),
                    "must be \"calendar\" or \"business\"",
                );
                None
            }
        };
        Some(DeadlinePolicy {
            days: days?,
            unit: unit?,
        })
    }

    fn categories(
        &mut self,
        mo: &Map<String, Value>,
        mpath: &str,
        doc_codes: &HashSet<String>,
    ) -> Vec<Category> {
        let list = self.array(mo, "categories", mpath);
        if list.is_empty() && mo.get("categories").is_some_and(Value::is_array) {
            self.fault(
                &format!("{mpath}.categories"),
                "a materia needs at least one category",
            );
        }
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for (i, c) in list.iter().enumerate() {
            let cpath = format!("{mpath}.categories[{i}]");
            let Some(co) = self.object(c, &cpath, &["code", "label", "subcategories"]) else {
                continue;
            };
            let code = self.code(co, &cpath);
            self.unique(&mut seen, &code, &cpath);
            let label = self.label(co, &cpath);
            let subs = self.subcategories(co, &cpath, doc_codes);
            if let (Some(code), Some(label)) = (code, label) {
                out.push(Category {
                    code,
                    label,
                    subcategories: subs,
                });
            }
        }
        out
    }

    fn subcategories(
        &mut self,
        co: &Map<String, Value>,
        cpath: &str,
        doc_codes: &HashSet<String>,
    ) -> Vec<Subcategory> {
        let list = self.array(co, "subcategories", cpath);
        if list.is_empty() && co.get("subcategories").is_some_and(Value::is_array) {
            self.fault(
                &format!("{cpath}.subcategories"),
                "a category needs at least one subcategory",
            );
        }
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for (i, s) in list.iter().enumerate() {
            let spath = format!("{cpath}.subcategories[{i}]");
            let Some(so) = self.object(
                s,
                &spath,
                &[
                    "code",
                    "label",
                    "required_data",
                    "required_documents",
                    "not_handled",
                ],
            ) else {
                continue;
            };
            let code = self.code(so, &spath);
            self.unique(&mut seen, &code, &spath);
            let label = self.label(so, &spath);
            let required_data = self.required_data(so, &spath);
            let required_documents = self.required_documents(so, &spath, doc_codes);
            let not_handled = match so.get("not_handled") {
                None => None,
                Some(Value::String(m)) if !m.trim().is_empty() => Some(m.clone()),
                Some(_) => {
                    self.fault(
                        &format!("{spath}.not_handled"),
                        "must be a non-empty string",
                    );
                    None
                }
            };
            if let (Some(code), Some(label)) = (code, label) {
                out.push(Subcategory {
                    code,
                    label,
                    required_data,
                    required_documents,
                    not_handled,
                });
            }
        }
        out
    }

    fn required_data(&mut self, so: &Map<String, Value>, spath: &str) -> Vec<Vec<FieldCode>> {
        let Some(v) = so.get("required_data") else {
            return Vec::new();
        };
        let path = format!("{spath}.required_data");
        let Some(groups) = v.as_array() else {
            self.fault(&path, "expected a list of groups");
            return Vec::new();
        };
        let mut out = Vec::new();
        for (g, group) in groups.iter().enumerate() {
            let gpath = format!("{path}[{g}]");
            let Some(codes) = group.as_array() else {
                self.fault(&gpath, "expected a list of field codes");
                continue;
            };
            if codes.is_empty() {
                self.fault(&gpath, "a group needs at least one field code");
                continue;
            }
            let mut fields = Vec::new();
            for (k, c) in codes.iter().enumerate() {
                match c.as_str().and_then(FieldCode::parse) {
                    Some(f) => fields.push(f),
                    None => self.fault(
                        &format!("{gpath}[{k}]"),
                        "unknown complementary-data field code",
                    ),
                }
            }
            out.push(fields);
        }
        out
    }

    fn required_documents(
        &mut self,
        so: &Map<String, Value>,
        spath: &str,
        doc_codes: &HashSet<String>,
    ) -> Vec<String> {
        let Some(v) = so.get("required_documents") else {
            return Vec::new();
        };
        let path = format!("{spath}.required_documents");
        let Some(list) = v.as_array() else {
            self.fault(&path, "expected a list of document-type codes");
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, c) in list.iter().enumerate() {
            match c.as_str() {
                Some(code) if doc_codes.contains(code) => out.push(code.to_owned()),
                _ => self.fault(&format!("{path}[{k}]"), "unknown document-type code"),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal() -> Value {
        json!({
            "document_types": [{"code": "identity", "label": "Documento de identidad"}],
            "case_types": [{
                "code": "procedure",
                "materias": [{"code": "afiliacion", "label": "Afiliación",
                    "categories": [{"code": "altas", "label": "Altas",
                        "subcategories": [
                            {"code": "nss", "label": "NSS", "required_data": [["naf", "nif"]], "required_documents": ["identity"]},
                            {"code": "aplaz", "label": "Aplazamiento", "not_handled": "Use la Sede."}
                        ]}]}]
            }]
        })
    }

    #[test]
    fn a_reload_reports_added_removed_and_changed_paths() {
        let before = Catalog::from_value(&minimal()).expect("valid");
        let mut v = minimal();
        let subs = &mut v["case_types"][0]["materias"][0]["categories"][0]["subcategories"];
        subs[0]["label"] = json!("Número de la Seguridad Social");
        subs[1] = json!({"code": "baja", "label": "Baja"});
        v["case_types"][0]["deadline"] = json!({"days": 15, "unit": "business"});
        let after = Catalog::from_value(&v).expect("valid");
        assert_eq!(
            after.changes_since(&before),
            vec![
                "~ procedure deadline".to_owned(),
                "+ procedure/afiliacion/altas/baja".to_owned(),
                "~ procedure/afiliacion/altas/nss".to_owned(),
                "- procedure/afiliacion/altas/aplaz".to_owned(),
            ]
        );
        assert!(after.changes_since(&after).is_empty());
    }

    /// One `check(input, expected)` helper: the first fault's path.
    fn first_fault(mutate: impl FnOnce(&mut Value)) -> String {
        let mut v = minimal();
        mutate(&mut v);
        match Catalog::from_value(&v) {
            Ok(_) => "ok".into(),
            Err(faults) => faults[0].path.clone(),
        }
    }

    #[test]
    fn a_valid_catalog_loads_with_the_default_deadline() {
        let c = Catalog::from_value(&minimal()).expect("valid");
        assert_eq!(
            c.deadline_policy(CaseType::Procedure),
            DeadlinePolicy {
                days: 10,
                unit: DeadlineUnit::Business
            }
        );
        assert_eq!(
            c.deadline_policy(CaseType::Inquiry),
            DeadlinePolicy {
                days: 20,
                unit: DeadlineUnit::Calendar
            }
        );
    }

    #[test]
    fn each_rule_fault_names_its_json_path() {
        let p = "$.case_types[0].materias[0].categories[0].subcategories[0]";
        assert_eq!(
            first_fault(|v| v["case_types"][0]["code"] = json!("query")),
            "$.case_types[0].code"
        );
        assert_eq!(
            first_fault(|v| v["case_types"][0]["materias"][0]["code"] = json!("Afil")),
            "$.case_types[0].materias[0].code"
        );
        assert_eq!(
            first_fault(|v| v["case_types"][0]["materias"][0]["code"] = json!("a".repeat(41))),
            "$.case_types[0].materias[0].code"
        );
        assert_eq!(
            first_fault(|v| v["case_types"][0]["materias"][0]["label"] = json!(" ")),
            "$.case_types[0].materias[0].label"
        );
        assert_eq!(
            first_fault(|v| v["case_types"][0]["materias"][0]["categories"] = json!([])),
            "$.case_types[0].materias[0].categories"
        );
        assert_eq!(
            first_fault(
                |v| v["case_types"][0]["materias"][0]["categories"][0]["subcategories"] = json!([])
            ),
            "$.case_types[0].materias[0].categories[0].subcategories"
        );
        assert_eq!(
            first_fault(
                |v| v["case_types"][0]["materias"][0]["categories"][0]["subcategories"][1]["code"] =
                    json!("nss")
            ),
            "$.case_types[0].materias[0].categories[0].subcategories[1].code"
        );
        assert_eq!(
            first_fault(
                |v| v["case_types"][0]["materias"][0]["categories"][0]["subcategories"][0]["required_data"] =
                    json!([["naf", "dni"]])
            ),
            format!("{p}.required_data[0][1]")
        );
        assert_eq!(
            first_fault(
                |v| v["case_types"][0]["materias"][0]["categories"][0]["subcategories"][0]["required_documents"] =
                    json!(["ta1"])
            ),
            format!("{p}.required_documents[0]")
        );
        assert_eq!(
            first_fault(|v| v["case_types"][0]["deadline"] = json!({"days": 0, "unit": "business"})),
            "$.case_types[0].deadline.days"
        );
        assert_eq!(
            first_fault(
                |v| v["case_types"][0]["deadline"] = json!({"days": 366, "unit": "business"})
            ),
            "$.case_types[0].deadline.days"
        );
        assert_eq!(
            first_fault(|v| v["case_types"][0]["deadline"] = json!({"days": 5, "unit": "weeks"})),
            "$.case_types[0].deadline.unit"
        );
        assert_eq!(
            first_fault(
                |v| v["case_types"][0]["materias"][0]["categories"][0]["subcategories"][0]["requried_data"] =
                    json!([])
            ),
            format!("{p}.requried_data")
        );
        assert_eq!(
            first_fault(|v| {
                let t = v["case_types"][0].clone();
                if let Some(a) = v["case_types"].as_array_mut() {
                    a.push(t);
                }
            }),
            "$.case_types[1].code"
        );
        assert_eq!(
            first_fault(|v| v["document_types"][0]["label"] = json!("")),
            "$.document_types[0].label"
        );
    }

    #[test]
    fn check_json_reports_every_fault() {
        let mut v = minimal();
        v["case_types"][0]["materias"][0]["label"] = json!("");
        v["document_types"][0]["code"] = json!("BAD");
        let faults = Catalog::check_json(&v.to_string()).expect_err("two faults");
        assert!(faults.len() >= 2, "{faults:?}");
        assert!(Catalog::check_json("{not json").is_err());
    }

    #[test]
    fn classification_names_the_missing_level_and_redirects_not_handled() {
        let c = Catalog::from_value(&minimal()).expect("valid");
        assert!(
            c.classify("procedure", "afiliacion", "altas", "nss")
                .is_ok()
        );
        let field = |r: Result<Classified<'_>, CasiaError>| {
            r.err().and_then(|e| e.field().map(str::to_owned))
        };
        assert_eq!(
            field(c.classify("inquiry", "afiliacion", "altas", "nss")).as_deref(),
            Some("case_type")
        );
        assert_eq!(
            field(c.classify("bogus", "afiliacion", "altas", "nss")).as_deref(),
            Some("case_type")
        );
        assert_eq!(
            field(c.classify("procedure", "x", "altas", "nss")).as_deref(),
            Some("materia")
        );
        assert_eq!(
            field(c.classify("procedure", "afiliacion", "x", "nss")).as_deref(),
            Some("category")
        );
        assert_eq!(
            field(c.classify("procedure", "afiliacion", "altas", "x")).as_deref(),
            Some("subcategory")
        );
        assert_eq!(
            c.classify("procedure", "afiliacion", "altas", "aplaz")
                .err(),
            Some(CasiaError::NotHandledByCasia {
                message: "Use la Sede.".into()
            })
        );
    }

    #[test]
    fn the_default_catalog_covers_what_domain_md_asks() {
        let c = Catalog::default_catalog();
        let materias = |t| -> Vec<String> {
            c.case_type(t)
                .map(|e| e.materias.iter().map(|m| m.code.clone()).collect())
                .unwrap_or_default()
        };
        for t in [CaseType::Inquiry, CaseType::Incident] {
            for m in [
                "afiliacion",
                "cotizacion",
                "tecnicas",
                "autorizaciones",
                "sede_electronica",
            ] {
                assert!(materias(t).contains(&m.to_owned()), "{t} lacks {m}");
            }
        }
        assert!(materias(CaseType::Inquiry).contains(&"informacion_general".to_owned()));
        for m in [
            "inscripcion_empresas",
            "afiliacion",
            "cotizacion",
            "autorizados",
        ] {
            assert!(
                materias(CaseType::Procedure).contains(&m.to_owned()),
                "procedure lacks {m}"
            );
        }
        let nss = c
            .classify("procedure", "afiliacion", "altas", "nss")
            .expect("nss request");
        assert_eq!(
            nss.subcategory.required_data,
            vec![vec![FieldCode::Naf, FieldCode::Nif]]
        );
        assert_eq!(
            nss.subcategory.required_documents,
            vec!["ta1".to_owned(), "identity".to_owned()]
        );
        assert!(matches!(
            c.classify("procedure", "cotizacion", "aplazamientos", "solicitud"),
            Err(CasiaError::NotHandledByCasia { .. })
        ));
    }

    #[test]
    fn a_catalog_survives_a_round_trip_through_its_own_json() {
        let c = Catalog::default_catalog();
        let text = serde_json::to_string(&c).expect("serialises");
        assert_eq!(Catalog::from_json(&text), Ok(c));
    }
}
