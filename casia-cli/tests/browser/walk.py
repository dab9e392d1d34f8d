"""A whole case through the CASIA web pages in headless Chromium (issue 18).

Run by casia-cli/tests/browser.rs against a `casia serve --dev-login`:

    walk.py BASE_URL SCREENSHOT_DIR AXE_JS CORPUS_DIR CHROMEDRIVER

An autorizado files a procedure with a PDF (after a bad NIF and a file that
is not accepted are refused next to their fields, with the input kept) and
gets the receipt; the code verifies on the public page; a processor assigns
the case and requests information, seeing the deadline it sets; the
autorizado answers with a document before the deadline; the processor
resolves; the autorizado rates the service; a search across two months is
refused next to its date. axe-core runs on every page and must report no
violation of WCAG 2.1 A/AA. Prints one JSON summary line last; exits 1 on
the first failed check.
"""

import json
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE, SHOTS, AXE, CORPUS, DRIVER = sys.argv[1:6]
CORPUS = os.path.abspath(CORPUS)
AXE_SOURCE = open(AXE, encoding="utf-8").read()
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PDF_1 = os.path.join(CORPUS, "accept", "fpdf2.pdf")
PDF_2 = os.path.join(CORPUS, "accept", "libreoffice.pdf")
NOT_ACCEPTED = os.path.join(CORPUS, "reject", "linux-elf")

options = webdriver.ChromeOptions()
for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
            "--window-size=1280,900", "--lang=es-ES"]:
    options.add_argument(arg)
options.add_experimental_option("prefs", {"intl.accept_languages": "es-ES,es"})
driver = webdriver.Chrome(service=Service(DRIVER), options=options)
driver.set_page_load_timeout(30)
wait = WebDriverWait(driver, 15)
results = {"pages": {}, "screenshots": []}


def check(condition, message):
    if not condition:
        shot = os.path.join(SHOTS, "failure.png")
        driver.save_screenshot(shot)
        print(f"FAILED: {message} (at {driver.current_url}; screenshot {shot})", flush=True)
        print(driver.page_source[:4000], flush=True)
        driver.quit()
        sys.exit(1)


def violations():
    """axe-core's WCAG 2.1 A/AA violations on the page."""
    driver.execute_script(AXE_SOURCE)
    return driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(function (r) { done(r.violations.map(function (v) {"
        "  return {id: v.id, impact: v.impact, help: v.help,"
        "          nodes: v.nodes.map(function (n) { return n.target.join(' '); })}; })); })"
        ".catch(function (e) { done([{id: 'axe-error', help: String(e), nodes: []}]); });",
        TAGS,
    )


def axe(name):
    """Runs axe-core on the page; any WCAG 2.1 A/AA violation fails."""
    found = violations()
    results["pages"][name] = len(found)
    check(not found, f"axe on {name}: {json.dumps(found, ensure_ascii=False)}")


def shot(name):
    """A full-page screenshot, SHOTS/web-NAME.png."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(900, min(int(height), 6000)))
    path = os.path.join(SHOTS, f"web-{name}.png")
    driver.save_screenshot(path)
    driver.set_window_size(1280, 900)
    results["screenshots"].append(path)


def page(name, screenshot=True):
    axe(name)
    if screenshot:
        shot(name)


def go(path):
    driver.get(BASE + path)


def h1():
    return driver.find_element(By.TAG_NAME, "h1").text


def mark():
    """Marks the current document, so `loaded` can tell when it is gone."""
    driver.execute_script("window.casiaOldPage = true")


def new_page_loaded(d):
    try:
        return d.execute_script(
            "return window.casiaOldPage !== true && document.readyState === 'complete'")
    except WebDriverException:
        # Between two documents the driver may answer with an error.
        return False


def loaded():
    """Waits for the marked page to be replaced and the new one loaded."""
    wait.until(new_page_loaded)


def submit(form_selector):
    mark()
    driver.find_element(By.CSS_SELECTOR, form_selector + ' button[type="submit"]').click()
    loaded()


def choose(select_id, value):
    """Picks an option; casia.js reloads the form with the next level."""
    mark()
    Select(driver.find_element(By.ID, select_id)).select_by_value(value)
    loaded()


def sign_in(profile, **fields):
    go("/entrar")
    driver.find_element(By.ID, f"perfil-{profile}").click()
    for name, value in fields.items():
        box = driver.find_element(By.ID, name)
        box.clear()
        box.send_keys(value)
    submit('form[action="/entrar"]')


def sign_out():
    submit('form[action="/salir"]')


def fill(field_id, text):
    box = driver.find_element(By.ID, field_id)
    box.clear()
    box.send_keys(text)


def error_of(field_id):
    found = driver.find_elements(By.ID, field_id + "-error")
    return found[0].text if found else ""


# --- signed out: the sign-in page -----------------------------------------
go("/")
check(driver.current_url.endswith("/entrar"), "signed out, / leads to /entrar")
page("entrar")
# The checker itself: a field stripped of its label must be reported.
driver.execute_script("document.querySelector('label[for=usuario]').remove()")
check(any(v["id"] == "label" for v in violations()), "axe reports a field without a label")
go("/entrar")

# --- an autorizado files a procedure --------------------------------------
sign_in("usuario", autorizacion="AUT-0001", usuario="ana.garcia", provincia="28")
check(h1() == "Mis casos del mes", f"user home, got {h1()!r}")
page("inicio-vacio", screenshot=False)

go("/casos/nuevo")
choose("tipo", "procedure")
choose("materia", "cotizacion")
choose("categoria", "aplazamientos")
choose("subcategoria", "solicitud")
warning = driver.find_element(By.CSS_SELECTOR, ".warning").text
check("no se presenta por CASIA" in warning, f"not_handled message shown: {warning!r}")
check(not driver.find_elements(By.ID, "titulo"), "no case form under a not-handled topic")
page("nuevo-no-tramitable", screenshot=False)

choose("materia", "inscripcion_empresas")
choose("categoria", "inscripcion")
choose("subcategoria", "inscripcion")
check("Documentación obligatoria" in driver.page_source, "required documents listed")
page("nuevo-caso")

fill("titulo", "Inscripción de empresa nueva")
fill("descripcion", "Solicitamos la inscripción de la empresa y la asignación de su CCC.")
fill("dato_nif", "12345678A")
Select(driver.find_element(By.ID, "adjunto_1_tipo")).select_by_value("ta6")
fill("adjunto_1_titulo", "Modelo TA.6")
driver.find_element(By.ID, "adjunto_1_fichero").send_keys(PDF_1)
submit('form[action="/casos/nuevo"][method="post"]')
check("NIF" in error_of("dato_nif"), f"bad NIF shown at its field: {error_of('dato_nif')!r}")
check(driver.find_element(By.ID, "titulo").get_attribute("value") == "Inscripción de empresa nueva",
      "title kept after an error")
check(driver.find_element(By.ID, "dato_nif").get_attribute("value") == "12345678A", "NIF kept")
check(driver.find_elements(By.CSS_SELECTOR, '.error-summary a[href="#dato_nif"]'),
      "error summary links to the field")
page("nuevo-caso-error-nif")

fill("dato_nif", "12345678Z")
Select(driver.find_element(By.ID, "adjunto_1_tipo")).select_by_value("ta6")
driver.find_element(By.ID, "adjunto_1_fichero").send_keys(PDF_1)
Select(driver.find_element(By.ID, "adjunto_2_tipo")).select_by_value("other")
fill("adjunto_2_titulo", "Programa")
driver.find_element(By.ID, "adjunto_2_fichero").send_keys(NOT_ACCEPTED)
submit('form[action="/casos/nuevo"][method="post"]')
refused = error_of("adjunto_2_fichero")
check("formato no admitido" in refused, f"unaccepted file shown at its input: {refused!r}")
page("nuevo-caso-error-fichero", screenshot=False)

Select(driver.find_element(By.ID, "adjunto_1_tipo")).select_by_value("ta6")
driver.find_element(By.ID, "adjunto_1_fichero").send_keys(PDF_1)
fill("adjunto_2_titulo", "")
Select(driver.find_element(By.ID, "adjunto_2_tipo")).select_by_value("")
submit('form[action="/casos/nuevo"][method="post"]')
check(h1() == "Justificante de apertura", f"receipt page, got {h1()!r}")
number = driver.find_element(By.ID, "numero").text
code = driver.find_element(By.ID, "codigo").text
check(len(code) == 24, f"verification code {code!r}")
page("justificante")
pdf = driver.execute_async_script(
    "var done = arguments[arguments.length - 1];"
    "fetch(arguments[0]).then(function (r) { return r.arrayBuffer().then(function (b) {"
    " done([r.status, r.headers.get('content-type'), new Uint8Array(b.slice(0, 5)).join(',')]); }); });",
    f"/casos/{number}/justificante.pdf",
)
check(pdf[0] == 200 and pdf[1] == "application/pdf" and pdf[2] == "37,80,68,70,45",
      f"the receipt PDF: {pdf}")

go("/")
check(number in driver.page_source, "the new case is in the month's list")
page("inicio")

# --- anyone verifies the receipt -------------------------------------------
go("/verificar?codigo=" + code.lower().replace("-", ""))
check("Justificante auténtico" in driver.page_source, "code verifies")
page("verificar")
go("/verificar?codigo=AAAA-BBBB-CCCC-DDDD-EEEE")
check(error_of("codigo"), "an unknown code is refused at its field")
page("verificar-error", screenshot=False)

# --- a processor assigns and requests information --------------------------
sign_out()
sign_in("tramitador", tramitador="p.lopez", oficina="28")
check(h1() == "Cola de trabajo" and number in driver.page_source, "the case is in the queue")
page("cola")
driver.find_element(By.LINK_TEXT, number).click()
check(h1() == f"Caso {number}", "processor case page")
submit(f'form[action="/casos/{number}/asignar"]')
check("Caso asignado" in driver.page_source, "assigned")
plazo = driver.find_element(By.ID, "plazo").text
check("tendrá hasta el" in plazo, f"deadline preview: {plazo!r}")
submit(f'form[action="/casos/{number}/solicitar"]')
check("Información solicitada" in error_of("observacion"), "an empty request is refused at its field")
fill("observacion", "Aporte la escritura de constitución de la sociedad.")
submit(f'form[action="/casos/{number}/solicitar"]')
check("Información solicitada" in driver.page_source, "information requested")
page("caso-tramitador")

# --- the autorizado answers before the deadline -----------------------------
sign_out()
sign_in("usuario", autorizacion="AUT-0001", usuario="ana.garcia", provincia="28")
go(f"/casos/{number}")
check("Plazo para aportar la información" in driver.page_source, "the deadline is shown")
page("caso-solicitud")
fill("comentario", "Adjuntamos la escritura.")
Select(driver.find_element(By.ID, "adjunto_1_tipo")).select_by_value("escritura")
driver.find_element(By.ID, "adjunto_1_fichero").send_keys(PDF_2)
submit(f'form[action="/casos/{number}/documentacion"]')
check("Documentación añadida" in driver.page_source, "documentation added")
links = driver.find_elements(By.CSS_SELECTOR, f'a[href^="/casos/{number}/documentos/"]')
check(len(links) == 2, f"two documents listed, got {len(links)}")

# --- the processor resolves -------------------------------------------------
sign_out()
sign_in("tramitador", tramitador="p.lopez", oficina="28")
go(f"/casos/{number}")
fill("resolucion", "Empresa inscrita; el CCC asignado figura en el Sistema RED.")
submit(f'form[action="/casos/{number}/resolver"]')
check("Caso resuelto" in driver.page_source, "resolved")

# --- the autorizado reads the resolution and rates the service --------------
sign_out()
sign_in("usuario", autorizacion="AUT-0001", usuario="ana.garcia", provincia="28")
go(f"/casos/{number}")
check("Empresa inscrita" in driver.page_source, "the resolution is shown")
driver.find_element(By.CSS_SELECTOR, 'label[for="valoracion-5"]').click()
fill("comentario_encuesta", "Rápido y claro.")
submit(f'form[action="/casos/{number}/encuesta"]')
check("valoración ha quedado registrada" in driver.page_source, "survey recorded")
check(not driver.find_elements(By.CSS_SELECTOR, f'form[action="/casos/{number}/encuesta"]'),
      "the survey form is gone once rated")
page("caso-resuelto")

# --- Gestión de casos: option 1, option 2 and the month rule ----------------
go("/casos")
page("gestion")
fill("numero", number)
submit('form[action="/casos"]:first-of-type')
check(h1() == f"Caso {number}", "option 1 opens the case")
go("/casos?estado=all&desde=2026-10-01&hasta=2026-11-30")
months = error_of("hasta") or error_of("desde")
check("mismo mes" in months, f"a search across two months is refused at a date: {months!r}")
check(driver.find_element(By.ID, "hasta").get_attribute("value") == "2026-11-30", "dates kept")
page("gestion-error-meses", screenshot=False)

# --- keyboard: the skip link is the first stop and reaches the content ------
go("/casos")
driver.find_element(By.TAG_NAME, "body").send_keys("\ue004")  # Tab
active = driver.switch_to.active_element
check(active.get_attribute("class") == "skip", "the first Tab stop is the skip link")

driver.quit()
results["case"] = number
print(json.dumps(results, ensure_ascii=False), flush=True)
