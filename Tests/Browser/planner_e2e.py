#!/usr/bin/env python3
"""End-to-end test of the rack planner (web/) in headless Chromium, through the edge.

Starts the built `homerack-backend serve` (embedded SQLite in a temporary directory, with
API_TOKENS set so that writes need the sign-in) and `homerack-edge` with config/edge.dev.yaml
itself (its listeners moved to free loopback ports, a throw-away certificate, web/ as the
static root, so the shipped Content-Security-Policy is the one the page runs under). Then drives
Debian's chromium through chromedriver with Selenium, step by step, as a user would: sign in,
create a rack, add and place two devices, check each block's U in the SVG, try an overlap, open
the thermal view, run and apply the optimizer, connect the devices, download the BOM.

A screenshot of every step goes to the results directory. Any SEVERE entry in the browser's
console (a JavaScript error, a CSP violation, a failed request) fails the step it happened in,
except the HTTP statuses a step provokes on purpose (401, 422, 409). Every wait has a timeout.

Usage: planner_e2e.py --bin DIR --results DIR [--readme-screenshot PATH]
Prints one line per step and a closing `N passed, N failed`; exits 1 when any step failed.
"""

import argparse
import glob
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
WAIT = 20            # seconds for a UI change to show
START_TIMEOUT = 180  # seconds for a debug build of a server to start under load


class StepFailure(Exception):
    pass


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Servers:
    """The backend and the edge as child processes, stopped by PID."""

    def __init__(self, bin_dir, results):
        self.bin_dir = bin_dir
        self.results = results
        self.tmp = tempfile.mkdtemp(prefix='homerack-browser.')
        self.token = secrets.token_hex(16)
        self.procs = []
        self.backend_port = free_port()
        self.https_port = free_port()
        self.http_port = free_port()
        self.admin_port = free_port()
        self.origin = f'https://localhost:{self.https_port}'

    def start(self):
        cert = os.path.join(self.tmp, 'cert.pem')
        key = os.path.join(self.tmp, 'key.pem')
        subprocess.run(
            ['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
             '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
            check=True, capture_output=True, timeout=60)
        env = {k: v for k, v in os.environ.items()
               if k not in ('DATABASE_URL', 'REDIS_URL', 'HOMERACK_CONFIG', 'API_TOKENS')}
        backend_env = dict(env, DATA_DIR=os.path.join(self.tmp, 'data'), API_TOKENS=self.token)
        self._spawn('backend', [os.path.join(self.bin_dir, 'homerack-backend'), 'serve',
                                '--host', '127.0.0.1', '--port', str(self.backend_port)],
                    backend_env, cwd=self.tmp)
        self._wait_http(lambda: self._plain_get(self.backend_port, '/api/health/ready'), 'the backend')
        edge_env = dict(env,
                        HOMERACK_HTTPS_LISTEN=f'127.0.0.1:{self.https_port}',
                        HOMERACK_HTTPS_PORT=str(self.https_port),
                        HOMERACK_HTTP_LISTEN=f'127.0.0.1:{self.http_port}',
                        HOMERACK_ADMIN_LISTEN=f'127.0.0.1:{self.admin_port}',
                        HOMERACK_BACKEND=f'127.0.0.1:{self.backend_port}',
                        HOMERACK_FRONTEND_ROOT=os.path.join(REPO, 'web'),
                        HOMERACK_TLS_CERT=cert, HOMERACK_TLS_KEY=key)
        self._spawn('edge', [os.path.join(self.bin_dir, 'homerack-edge'), '--config',
                             os.path.join(REPO, 'config', 'edge.dev.yaml')], edge_env, cwd=REPO)
        self._wait_http(lambda: self.request('GET', '/api/racks')[0], 'the edge')

    def _spawn(self, name, argv, env, cwd):
        log = open(os.path.join(self.results, f'{name}.log'), 'wb')
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs.append((name, proc, log))

    def _wait_http(self, probe, what):
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            for name, proc, _ in self.procs:
                if proc.poll() is not None:
                    raise StepFailure(f'{name} exited with {proc.returncode} while starting '
                                      f'(see {self.results}/{name}.log)')
            try:
                if probe() == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline:
                raise StepFailure(f'{what} did not answer within {START_TIMEOUT} s')
            time.sleep(0.2)

    def _plain_get(self, port, path):
        conn = http.client.HTTPConnection('127.0.0.1', port, timeout=5)
        try:
            conn.request('GET', path)
            return conn.getresponse().status
        finally:
            conn.close()

    def request(self, method, path, body=None, headers=None, raw=False):
        """One request through the edge on a keep-alive connection (never Connection: close)."""
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection('127.0.0.1', self.https_port, timeout=30, context=context)
        try:
            all_headers = {'Host': f'localhost:{self.https_port}'}
            if method != 'GET':
                all_headers['Authorization'] = f'Bearer {self.token}'
            if body is not None and not raw:
                body = json.dumps(body).encode()
                all_headers['Content-Type'] = 'application/json'
            all_headers.update(headers or {})
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
            headers = {}
            for name, value in response.getheaders():  # repeated fields joined, as RFC 9110 allows
                headers[name.lower()] = f'{headers[name.lower()]}, {value}' if name.lower() in headers else value
            return response.status, headers, data
        finally:
            conn.close()

    def stop(self):
        for name, proc, log in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
            log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class Planner:
    """The browser, and what the steps share."""

    def __init__(self, servers, results):
        self.servers = servers
        self.results = results
        self.downloads = os.path.join(results, 'downloads')
        os.makedirs(self.downloads, exist_ok=True)
        options = webdriver.ChromeOptions()
        options.binary_location = os.environ.get('CHROMIUM', '/usr/bin/chromium')
        for arg in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu',
                    '--window-size=1280,1000', '--force-color-profile=srgb', '--hide-scrollbars',
                    '--no-first-run', '--disable-extensions', '--disable-background-networking',
                    '--disable-component-update', '--disable-sync', '--password-store=basic'):
            options.add_argument(arg)
        options.accept_insecure_certs = True
        options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
        options.add_experimental_option('prefs', {
            'download.default_directory': self.downloads,
            'download.prompt_for_download': False,
            'safebrowsing.enabled': False,
        })
        service = Service(executable_path=os.environ.get('CHROMEDRIVER', '/usr/bin/chromedriver'),
                          log_output=os.path.join(results, 'chromedriver.log'))
        self.driver = webdriver.Chrome(options=options, service=service)
        self.driver.set_page_load_timeout(60)
        self.driver.set_script_timeout(30)
        self.driver.execute_cdp_cmd('Browser.setDownloadBehavior',
                                    {'behavior': 'allow', 'downloadPath': self.downloads})
        # The page redraws the rack after every change: an element found a moment ago may be gone.
        self.wait = WebDriverWait(self.driver, WAIT, ignored_exceptions=(StaleElementReferenceException,))
        self.ids = {}

    # -- helpers ------------------------------------------------------------------------

    def url(self, path='/'):
        return self.servers.origin + path

    def find(self, css):
        return self.wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, css)), f'no {css}')

    def visible(self, css):
        return self.wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)), f'{css} not visible')

    def click(self, css):
        element = self.wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, css)), f'{css} not clickable')
        self.driver.execute_script('arguments[0].scrollIntoView({block: "center"})', element)
        element.click()
        return element

    def type(self, css, text):
        element = self.visible(css)
        element.clear()
        element.send_keys(str(text))
        return element

    def message(self, predicate, what, css='#rack-message .msg'):
        """Waits for a message next to the rack that satisfies `predicate(text, status)`."""
        def check(driver):
            for el in driver.find_elements(By.CSS_SELECTOR, css):
                text = el.text
                if predicate(text, el.get_attribute('data-status') or ''):
                    return text
            return False
        try:
            return self.wait.until(check)
        except TimeoutException:
            shown = self.driver.execute_script(
                'return [...document.querySelectorAll(arguments[0])].map((el) => el.textContent)', css)
            raise StepFailure(f'no message {what}; shown: {shown}')

    def block(self, device_id):
        return self.find(f'svg.elevation:not(.compact) g.device-block.front[data-device-id="{device_id}"]')

    def wait_block_at(self, device_id, start_u):
        css = f'svg.elevation:not(.compact) g.device-block.front[data-device-id="{device_id}"][data-start-u="{start_u}"]'
        try:
            return self.wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))
        except TimeoutException:
            raise StepFailure(f'device {device_id} is not drawn at U{start_u}')

    def assert_drawn_at(self, device_id, start_u, height_u):
        """The block's rectangle spans exactly the slots of U start … start+height-1."""
        geometry = self.driver.execute_script('''
            const [id, start, height] = arguments;
            const svg = document.querySelector('svg.elevation:not(.compact)');
            const g = svg.querySelector(`g.device-block.front[data-device-id="${id}"]`);
            const body = g.querySelector('rect.block-body').getBoundingClientRect();
            const slot = (u) => svg.querySelector(`.view-front rect.slot[data-u="${u}"]`).getBoundingClientRect();
            const bottom = slot(start), top = slot(start + Math.ceil(height) - 1);
            const label = svg.querySelector(`.view-front text.u-label[data-u="${start}"]`);
            return {bodyTop: body.top, bodyBottom: body.bottom, slotTop: top.top, slotBottom: bottom.bottom,
                    unit: bottom.height, label: label ? label.getBoundingClientRect().top : null,
                    startU: Number(g.dataset.startU)};
        ''', device_id, start_u, height_u)
        tolerance = 2.0
        if geometry['startU'] != start_u:
            raise StepFailure(f'device {device_id} says U{geometry["startU"]}, expected U{start_u}')
        if abs(geometry['bodyBottom'] - geometry['slotBottom']) > tolerance:
            raise StepFailure(f'device {device_id} bottom edge is not on U{start_u}: {geometry}')
        if abs(geometry['bodyTop'] - geometry['slotTop']) > tolerance:
            raise StepFailure(f'device {device_id} top edge is not on U{start_u + height_u - 1}: {geometry}')

    def tab(self, name):
        self.click(f'#tab-{name}')
        self.wait.until(lambda d: d.find_element(By.ID, f'tab-{name}').get_attribute('aria-selected') == 'true')

    def screenshot(self, name):
        path = os.path.join(self.results, f'{name}.png')
        self.driver.save_screenshot(path)
        return path

    def console_errors(self, allowed_statuses):
        bad = []
        for entry in self.driver.get_log('browser'):
            if entry.get('level') != 'SEVERE':
                continue
            text = entry.get('message', '')
            status = re.search(r'status of (\d{3})', text)
            if entry.get('source') == 'network' and status and int(status.group(1)) in allowed_statuses:
                continue
            bad.append(f"[{entry.get('source')}] {text}")
        return bad

    def quit(self):
        self.driver.quit()


# ------------------------------------------------------------------------------ steps ------

LOGO_SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
            b'<circle cx="8" cy="8" r="7" fill="#0559c9"/><text x="8" y="12" font-size="10" '
            b'text-anchor="middle" fill="#fff">U</text></svg>')


def step_seed_catalog(p):
    """A brand with a logo and a specification in the catalog (the API, through the edge)."""
    s = p.servers
    status, _, body = s.request('POST', '/api/brands', {'name': 'Ubiquiti', 'website': 'https://ui.com'})
    if status != 201:
        raise StepFailure(f'POST /api/brands: {status} {body[:200]!r}')
    brand = json.loads(body)
    boundary = 'homerack' + secrets.token_hex(8)
    form = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="ubiquiti.svg"\r\n'
            f'Content-Type: image/svg+xml\r\n\r\n').encode() + LOGO_SVG + f'\r\n--{boundary}--\r\n'.encode()
    status, _, body = s.request('POST', f'/api/brands/{brand["id"]}/logo', form,
                                {'Content-Type': f'multipart/form-data; boundary={boundary}'}, raw=True)
    if status != 200:
        raise StepFailure(f'POST logo: {status} {body[:200]!r}')
    p.ids['logo_url'] = json.loads(body)['logo_url']
    status, headers, _ = s.request('GET', p.ids['logo_url'])
    policies = headers.get('content-security-policy', '')
    if status != 200 or 'sandbox' not in policies:
        raise StepFailure(f'GET {p.ids["logo_url"]}: {status}, CSP {policies!r} (the sandbox is missing)')
    status, _, body = s.request('POST', '/api/device-specs', {
        'brand': 'Ubiquiti', 'model': 'USW-Pro-24', 'height_u': 1, 'power_watts': 45, 'weight_kg': 3.6,
        'depth_mm': 285, 'width_type': '19"', 'airflow_pattern': 'back_to_front'})
    if status != 201:
        raise StepFailure(f'POST /api/device-specs: {status} {body[:200]!r}')
    # The page itself: CSP as shipped, and the SPA fallback for a client-side route.
    status, headers, body = s.request('GET', '/racks/999')
    if status != 200 or b'HomeRack planner' not in body:
        raise StepFailure(f'GET /racks/999 (SPA fallback): {status}')
    csp = headers.get('content-security-policy', '')
    if "'unsafe-inline'" in csp or "script-src 'self'" not in csp:
        raise StepFailure(f'unexpected Content-Security-Policy: {csp!r}')


def step_open(p):
    p.driver.get(p.url('/'))
    p.wait.until(lambda d: d.find_element(By.TAG_NAME, 'body').get_attribute('data-ready') == 'true')
    p.visible('#new-rack')
    if p.driver.title != 'HomeRack planner':
        raise StepFailure(f'title is {p.driver.title!r}')
    p.screenshot('01-empty')


def step_create_rack_needs_token(p):
    """Without a token the API refuses (401, shown by the form and the sign-in field); a 422 is
    shown by the form; with the token the rack is created and opened."""
    if p.driver.find_element(By.ID, 'new-rack').get_attribute('open') is None:
        p.click('#new-rack > summary')
    form = '#new-rack-body form'
    p.type(f'{form} input[name=name]', 'Lab rack')
    p.type(f'{form} input[name=location]', 'Basement')
    p.type(f'{form} input[name=total_height_u]', '24')
    p.click(f'{form} button[type=submit]')
    p.message(lambda text, status: status == '401' and 'token' in text, 'with 401', f'{form} .form-errors .msg')
    p.visible('#token-status.error')
    p.screenshot('02-needs-token')
    p.type('#token-input', p.servers.token)
    p.click('#token-save')
    p.wait.until(EC.text_to_be_present_in_element((By.ID, 'token-status'), 'Signed in'))
    p.type(f'{form} input[name=total_height_u]', '500')
    p.click(f'{form} button[type=submit]')
    p.message(lambda text, status: status == '422' and 'total_height_u' in text, 'with 422 on total_height_u',
              f'{form} .form-errors .msg')
    p.type(f'{form} input[name=total_height_u]', '24')
    p.click(f'{form} button[type=submit]')
    p.wait.until(EC.text_to_be_present_in_element((By.ID, 'rack-title'), 'Lab rack'))
    match = re.search(r'/racks/(\d+)$', p.driver.current_url)
    if not match:
        raise StepFailure(f'URL is {p.driver.current_url}')
    p.ids['rack'] = int(match.group(1))
    slots = p.driver.find_elements(By.CSS_SELECTOR, 'svg.elevation .view-front rect.slot.empty')
    if len(slots) != 24:
        raise StepFailure(f'{len(slots)} empty Us drawn in the front view, expected 24')
    p.find(f'#rack-list a[data-rack-id="{p.ids["rack"]}"][aria-current="page"]')
    p.screenshot('03-rack-created')


def step_edit_rack(p):
    p.click('#edit-rack')
    p.type('.edit-box input[name=location]', 'Basement, north wall')
    p.click('.edit-box button[type=submit]')
    p.message(lambda text, status: 'saved' in text, 'saying the rack was saved')
    p.wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, '.rack-facts'), 'north wall'))


def step_add_devices(p):
    """One device found by the unified search, one described as a new specification."""
    p.type('#catalog-search', 'usw')
    p.click('#search-submit')
    p.click('#search-results li.hit[data-kind="specification"] button.add-device')
    p.message(lambda text, status: 'Added Ubiquiti USW-Pro-24' in text, 'about the added switch')
    p.click('#spec-details > summary')
    p.type('#spec-form input[name=brand]', 'Dell')
    p.type('#spec-form input[name=model]', 'PowerEdge R740')
    p.type('#spec-form input[name=height_u]', '2')
    p.type('#spec-form input[name=power_watts]', '750')
    p.type('#spec-form input[name=weight_kg]', '28')
    p.type('#spec-form input[name=depth_mm]', '715')
    Select(p.visible('#spec-form select[name=width_type]')).select_by_value('19"')
    p.click('#spec-submit')
    p.message(lambda text, status: 'Added Dell PowerEdge R740' in text, 'about the added server')
    options = p.driver.find_elements(By.CSS_SELECTOR, '#place-device option')
    names = {o.text.split(' · ')[0]: int(o.get_attribute('value')) for o in options}
    if 'Ubiquiti USW-Pro-24' not in names or 'Dell PowerEdge R740' not in names:
        raise StepFailure(f'devices to place: {list(names)}')
    p.ids['switch'] = names['Ubiquiti USW-Pro-24']
    p.ids['server'] = names['Dell PowerEdge R740']
    p.screenshot('04-devices-added')


def step_add_catalog_model(p):
    """A catalog model found by the search becomes a device through /api/devices/from-model."""
    s = p.servers
    status, _, body = s.request('POST', '/api/device-types', {'name': 'Router', 'slug': 'router', 'icon': '🛜'})
    if status != 201:
        raise StepFailure(f'POST /api/device-types: {status} {body[:200]!r}')
    brand = json.loads(s.request('GET', '/api/brands?search=Ubiquiti')[2])[0]
    status, _, body = s.request('POST', '/api/models', {
        'brand_id': brand['id'], 'device_type_id': json.loads(body)['id'], 'name': 'Dream Machine Pro',
        'height_u': 1, 'power_watts': 33})
    if status != 201:
        raise StepFailure(f'POST /api/models: {status} {body[:200]!r}')
    p.type('#catalog-search', 'dream')
    p.click('#search-submit')
    p.click('#search-results li.hit[data-kind="model"] button.add-device')
    p.message(lambda text, status: 'Added Ubiquiti Dream Machine Pro' in text, 'about the added catalog model')
    options = [o.text for o in p.driver.find_elements(By.CSS_SELECTOR, '#place-device option')]
    if not any(o.startswith('Ubiquiti Dream Machine Pro') for o in options):
        raise StepFailure(f'devices to place: {options}')


def place(p, device_id, start_u):
    Select(p.visible('#place-device')).select_by_value(str(device_id))
    p.type('#place-u', start_u)
    p.click('#place-submit')
    p.wait_block_at(device_id, start_u)


def step_place_devices(p):
    place(p, p.ids['server'], 10)
    place(p, p.ids['switch'], 12)
    p.assert_drawn_at(p.ids['server'], 10, 2)
    p.assert_drawn_at(p.ids['switch'], 12, 1)
    label = p.block(p.ids['server']).find_element(By.CSS_SELECTOR, 'text.block-label').text
    if 'Dell PowerEdge R740' not in label:
        raise StepFailure(f'server block label {label!r}')
    classes = p.block(p.ids['server']).get_attribute('class')
    if 'type-server' not in classes:
        raise StepFailure(f'server block classes {classes!r}')
    logo = p.block(p.ids['switch']).find_elements(By.CSS_SELECTOR, 'image.brand-logo')
    if not logo or logo[0].get_attribute('href') != p.ids['logo_url']:
        raise StepFailure(f'switch block has no logo {p.ids["logo_url"]}')
    empty = len(p.driver.find_elements(By.CSS_SELECTOR, 'svg.elevation .view-front rect.slot.empty'))
    if empty != 21:
        raise StepFailure(f'{empty} empty Us after placing 3U of devices, expected 21')
    p.find(f'svg.elevation .view-rear g.device-block[data-device-id="{p.ids["server"]}"][data-start-u="10"]')
    p.wait.until(EC.text_to_be_present_in_element((By.ID, 'utilization'), '12.5'))
    p.screenshot('05-placed')


def step_overlap_refused(p):
    """Moving the switch onto the server's top U: the server's 409 is shown next to the rack."""
    switch = p.ids['switch']
    row = f'#placed-table tr[data-device-id="{switch}"]'
    p.type(f'{row} input[type=number]', '11')
    p.click(f'{row} button.move-button')
    text = p.message(lambda text, status: status == '409' and 'U11' in text, 'with 409 naming U11')
    p.wait_block_at(switch, 12)
    p.ids['overlap_message'] = text
    p.screenshot('06-overlap-409')


def step_drag_keyboard_and_lock(p):
    """Dragging a block moves it; so does ↑ on a focused block; L locks it, and the lock is drawn."""
    switch = p.ids['switch']
    unit = p.driver.execute_script(
        'return document.querySelector(\'svg.elevation:not(.compact) .view-front rect.slot[data-u="1"]\')'
        '.getBoundingClientRect().height')
    body = p.block(switch).find_element(By.CSS_SELECTOR, 'rect.block-body')
    p.driver.execute_script('arguments[0].scrollIntoView({block: "center"})', body)
    ActionChains(p.driver).click_and_hold(body).move_by_offset(0, -unit).move_by_offset(0, -unit) \
        .release().perform()
    p.wait_block_at(switch, 14)
    p.message(lambda text, status: 'Moved to U14' in text, 'about the drag')
    p.block(switch).send_keys('\ue015')  # ArrowDown
    p.wait_block_at(switch, 13)
    p.message(lambda text, status: 'Moved to U13' in text, 'about the move')
    p.driver.switch_to.active_element.send_keys('l')
    p.find(f'svg.elevation:not(.compact) g.device-block.front.locked[data-device-id="{switch}"]')
    # Unlock again with the table's checkbox, so the optimizer may move it.
    p.click(f'#placed-table tr[data-device-id="{switch}"] input.lock-toggle')
    p.wait.until(lambda d: not d.find_elements(
        By.CSS_SELECTOR, f'g.device-block.front.locked[data-device-id="{switch}"]'))


def step_thermal(p):
    p.tab('thermal')
    p.visible('#thermal-panel')
    recommendations = p.driver.find_elements(By.CSS_SELECTOR, '#recommendations li')
    if not recommendations:
        raise StepFailure('no recommendations')
    hot = p.visible('#hot-spots').text
    if 'Dell PowerEdge R740' not in hot:
        raise StepFailure(f'hot spots: {hot!r}')
    p.click('#thermal-overlay-panel')
    p.find('svg.elevation .thermal-overlay rect.heat-u')
    p.find(f'svg.elevation g.device-block.front.hot-high[data-device-id="{p.ids["server"]}"]')
    bands = p.driver.find_elements(By.CSS_SELECTOR, 'svg.elevation .view-rear rect.zone-band')
    if len(bands) != 3:
        raise StepFailure(f'{len(bands)} zone bands')
    # The server (U10-11) and the switch above it blow in opposite directions.
    p.find('svg.elevation .thermal-overlay g.conflict')
    if not p.driver.find_elements(By.CSS_SELECTOR, '#airflow-conflicts li'):
        raise StepFailure('no airflow conflict listed')
    p.screenshot('07-thermal')


def step_optimize_and_apply(p):
    p.tab('optimize')
    p.click('#optimize-run')
    p.visible('#score-table')
    p.find('#proposed-layout svg.elevation g.device-block')
    moves = {int(li.get_attribute('data-device-id')): int(li.get_attribute('data-to-u'))
             for li in p.driver.find_elements(By.CSS_SELECTOR, '#moves li')}
    p.screenshot('08-optimizer')
    if not moves:
        raise StepFailure('the optimizer proposed no move for a server in the middle zone')
    p.click('#optimize-apply')
    p.message(lambda text, status: text.startswith('Applied'), 'saying the layout was applied')
    for device_id, start_u in moves.items():
        p.wait_block_at(device_id, start_u)
    p.ids['moves'] = moves
    p.screenshot('09-applied')


def step_connections_and_bom(p):
    p.tab('cabling')
    form = p.visible('#connection-form')
    Select(form.find_element(By.NAME, 'from_device_id')).select_by_value(str(p.ids['server']))
    Select(form.find_element(By.NAME, 'to_device_id')).select_by_value(str(p.ids['switch']))
    p.type('#connection-form input[name=from_port]', 'eth0')
    p.type('#connection-form input[name=to_port]', 'port 1')
    p.click('#connection-submit')
    p.message(lambda text, status: 'Connection added' in text, 'about the connection')
    length = p.visible('#connections-table tbody tr td.length').text
    if not re.match(r'^\d+(\.\d+)? m$', length):
        raise StepFailure(f'the connection length was not estimated: {length!r}')
    p.click('#validate-cables')
    p.message(lambda text, status: text.startswith('Checked 1 connection'), 'with the validation summary')
    p.visible('#connections-table td.check.valid, #connections-table td.check.invalid')
    rows = p.driver.find_elements(By.CSS_SELECTOR, '#bom-table tbody tr')
    if len(rows) != 1:
        raise StepFailure(f'{len(rows)} BOM rows')
    for old in glob.glob(os.path.join(p.downloads, '*')):
        os.remove(old)
    p.click('#bom-download')
    deadline = time.monotonic() + WAIT
    files = []
    while time.monotonic() < deadline:
        files = [f for f in glob.glob(os.path.join(p.downloads, '*.csv'))]
        if files and os.path.getsize(files[0]) > 0:
            break
        time.sleep(0.2)
    if not files:
        raise StepFailure(f'no CSV downloaded into {p.downloads}')
    with open(files[0], encoding='utf-8') as f:
        lines = f.read().splitlines()
    if lines[0] != 'connection_id,from_device,to_device,cable_type,length_m,quantity' or len(lines) != 2 \
            or ',Cat6,' not in lines[1]:
        raise StepFailure(f'CSV content: {lines}')
    p.screenshot('10-cabling-bom')


def step_readme_view(p, readme_path):
    """The whole planner at 1280 px with the thermal overlay: the README's picture."""
    p.tab('devices')
    toggle = p.visible('#thermal-toggle')
    if not toggle.is_selected():
        toggle.click()
        p.find('svg.elevation .thermal-overlay')
    p.driver.execute_script('document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)')
    ActionChains(p.driver).move_to_element_with_offset(p.driver.find_element(By.TAG_NAME, 'header'), 0, 0).perform()
    path = p.screenshot('11-planner-1280')
    if readme_path:
        os.makedirs(os.path.dirname(readme_path), exist_ok=True)
        shutil.copyfile(path, readme_path)


def step_narrow_screen(p):
    p.driver.set_window_size(390, 844)
    try:
        p.wait.until(lambda d: d.execute_script('return window.innerWidth') <= 400)
        overflow = p.driver.execute_script(
            'return document.documentElement.scrollWidth - document.documentElement.clientWidth')
        if overflow > 1:
            raise StepFailure(f'the page is {overflow}px wider than a 390 px screen')
        p.visible('svg.elevation')
        p.screenshot('12-narrow-390')
    finally:
        p.driver.set_window_size(1280, 1000)


def step_fractional_and_zero_u(p):
    """A 0.5U device is drawn half a U high at its U; a 0U device on the side rail; ✕ removes one."""
    s = p.servers
    rack = p.ids['rack']
    placed = {}
    for model, height in (('Blank 0.5U', 0.5), ('Vertical PDU', 0)):
        status, _, body = s.request('POST', '/api/device-specs', {
            'brand': 'Generic', 'model': model, 'height_u': height, 'airflow_pattern': 'passive'})
        if status != 201:
            raise StepFailure(f'POST /api/device-specs {model}: {status} {body[:200]!r}')
        status, _, body = s.request('POST', '/api/devices', {'specification_id': json.loads(body)['id']})
        if status != 201:
            raise StepFailure(f'POST /api/devices {model}: {status} {body[:200]!r}')
        device = json.loads(body)['id']
        status, _, body = s.request('POST', f'/api/racks/{rack}/positions', {'device_id': device, 'start_u': 20})
        if status != 201:
            raise StepFailure(f'POST positions {model}: {status} {body[:200]!r}')
        placed[height] = device
    p.driver.get(p.url(f'/racks/{rack}'))
    p.wait_block_at(placed[0.5], 20)
    geometry = p.driver.execute_script('''
        const [half, zero] = arguments;
        const svg = document.querySelector('svg.elevation');
        const box = (css) => svg.querySelector(css).getBoundingClientRect();
        const slot = box('.view-front rect.slot[data-u="20"]');
        const halfBody = box(`.view-front g.device-block[data-device-id="${half}"] rect.block-body`);
        const zeroBody = box(`.view-front g.device-block.zero-u[data-device-id="${zero}"] rect.block-body`);
        return {slotBottom: slot.bottom, slotHeight: slot.height, slotRight: slot.right,
                halfBottom: halfBody.bottom, halfHeight: halfBody.height, zeroLeft: zeroBody.left,
                zeroBottom: zeroBody.bottom};
    ''', placed[0.5], placed[0])
    if abs(geometry['halfBottom'] - geometry['slotBottom']) > 2 or \
            abs(geometry['halfHeight'] - geometry['slotHeight'] / 2) > 2:
        raise StepFailure(f'the 0.5U block is not half of U20: {geometry}')
    if geometry['zeroLeft'] < geometry['slotRight'] or abs(geometry['zeroBottom'] - geometry['slotBottom']) > 2:
        raise StepFailure(f'the 0U block is not on the rail beside U20: {geometry}')
    p.screenshot('13-fractional-zero-u')
    p.click(f'#placed-table tr[data-device-id="{placed[0]}"] button.remove-button')
    p.message(lambda text, status: 'removed from the rack' in text, 'saying the 0U device was removed')
    p.wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, f'g.device-block[data-device-id="{placed[0]}"]'))


def step_dark_scheme(p):
    """prefers-color-scheme: dark gives the dark palette."""
    p.driver.execute_cdp_cmd('Emulation.setEmulatedMedia',
                             {'features': [{'name': 'prefers-color-scheme', 'value': 'dark'}]})
    try:
        p.wait.until(lambda d: d.execute_script(
            'return getComputedStyle(document.body).backgroundColor') == 'rgb(18, 22, 28)')
        p.screenshot('14-dark')
    finally:
        p.driver.execute_cdp_cmd('Emulation.setEmulatedMedia', {'features': []})


def step_delete_rack(p):
    """Delete asks inline (no dialog), then the rack is gone."""
    p.driver.get(p.url(f'/racks/{p.ids["rack"]}'))
    p.wait.until(EC.text_to_be_present_in_element((By.ID, 'rack-title'), 'Lab rack'))
    p.click('#delete-rack')
    p.click('#confirm-delete-rack')
    p.message(lambda text, status: 'deleted' in text, 'saying the rack was deleted', '#global-message .msg')
    if p.driver.find_elements(By.CSS_SELECTOR, f'#rack-list a[data-rack-id="{p.ids["rack"]}"]'):
        raise StepFailure('the deleted rack is still listed')


# ------------------------------------------------------------------------------- main ------

def main():
    # scripts/test.sh stops the test's process group with SIGTERM: exit through the finally
    # blocks, so the servers and the browser this test started are stopped too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    parser = argparse.ArgumentParser()
    parser.add_argument('--bin', required=True, help='directory of homerack-backend and homerack-edge')
    parser.add_argument('--results', required=True, help='where screenshots and logs go')
    parser.add_argument('--readme-screenshot', help='also copy the 1280 px view here')
    args = parser.parse_args()
    results = os.path.abspath(args.results)
    shutil.rmtree(results, ignore_errors=True)
    os.makedirs(results)

    steps = [
        ('the edge serves the page; catalog seeded through the API', step_seed_catalog, ()),
        ('the planner opens', step_open, ()),
        ('creating a rack needs the token (401), shows the 422, then works', step_create_rack_needs_token, (401, 422)),
        ('the rack can be edited', step_edit_rack, ()),
        ('two devices added: by search and as a new specification', step_add_devices, ()),
        ('a catalog model added through the search', step_add_catalog_model, ()),
        ('both placed and drawn at their Us, with type colour and logo', step_place_devices, ()),
        ('an overlapping move shows the server\'s 409', step_overlap_refused, (409,)),
        ('drag, keyboard move and lock', step_drag_keyboard_and_lock, ()),
        ('thermal view and overlay', step_thermal, ()),
        ('optimizer run and applied', step_optimize_and_apply, ()),
        ('connection, validation, BOM and CSV download', step_connections_and_bom, ()),
        ('the 1280 px view (README screenshot)', lambda p: step_readme_view(p, args.readme_screenshot), ()),
        ('readable at 390 px', step_narrow_screen, ()),
        ('0.5U and 0U devices drawn as the API models them; one removed', step_fractional_and_zero_u, ()),
        ('dark colour scheme', step_dark_scheme, ()),
        ('the rack is deleted', step_delete_rack, ()),
    ]
    passed = failed = 0
    started = time.monotonic()
    servers = Servers(os.path.abspath(args.bin), results)
    planner = None
    try:
        servers.start()
        print(f'browser tests: stack up on {servers.origin} in {time.monotonic() - started:.1f} s', flush=True)
        planner = Planner(servers, results)
        for index, (name, fn, allowed) in enumerate(steps, 1):
            t0 = time.monotonic()
            try:
                fn(planner)
                errors = planner.console_errors(set(allowed))
                if errors:
                    raise StepFailure('console errors: ' + ' | '.join(errors))
                passed += 1
                print(f'ok   {index:2} {name} ({time.monotonic() - t0:.1f} s)', flush=True)
            except Exception as err:  # noqa: BLE001 - every failure is reported, then the rest is skipped
                failed += 1
                detail = str(err) if isinstance(err, StepFailure) else traceback.format_exc()
                print(f'FAIL {index:2} {name}: {detail}', flush=True)
                try:
                    planner.screenshot(f'{index:02}-FAILED')
                except Exception:  # noqa: BLE001
                    pass
                remaining = len(steps) - index
                if remaining:
                    print(f'     the {remaining} later step(s) depend on this one and were not run', flush=True)
                    failed += remaining
                break
    except Exception as err:  # noqa: BLE001
        failed = len(steps) - passed
        print(f'FAIL the stack or the browser did not start: {err}', flush=True)
    finally:
        if planner:
            planner.quit()
        servers.stop()
    print(f'browser tests: screenshots and logs in {results} ({time.monotonic() - started:.1f} s)')
    print(f'{passed} passed, {failed} failed')
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
