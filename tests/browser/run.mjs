// The web front in a real browser: Debian's headless Chromium driven by playwright-core
// against a running `onething serve --dev-login --manual police,hospital` (BASE_URL).
//
// A parent applies with the one form (first with mistakes, shown beside their fields),
// gets the one notice, uploads the missing material and resubmits; the hospital officer
// confirms the birth on the facts beside the delivery record; a police officer opens
// the material in the page and returns the case; the parent sees the reasons, uploads
// again and resubmits; the officer approves; the parent sees `completed` and downloads a
// certificate's PDF, then rates; a supervisor's charts render with that data; the window
// officer's pages work. Every page state is checked by axe-core (WCAG 2.1 A and AA) and
// no page logs a console error or a CSP violation. Screenshots at phone (360 px) and
// desktop (1280 px) widths go to SCREENSHOTS_DIR.

import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BASE = process.env.BASE_URL;
const SHOTS = process.env.SCREENSHOTS_DIR || 'screenshots';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
if (!BASE) throw new Error('BASE_URL is required');
mkdirSync(SHOTS, { recursive: true });

const report = { axe: [], screenshots: [], console: [] };
let expectBadRequests = false;
const pages = [];
const T = 20000;

function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
  console.log('ok -', what);
}

/** Beijing-time date-time of yesterday 08:30, as the form's input and as RFC 3339. */
function yesterday() {
  const d = new Date(Date.now() - 86400000);
  const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(d);
  return { input: `${day}T08:30`, rfc: `${day}T08:30:00+08:00` };
}

/** A small, valid one-page PDF standing in for a scanned document. */
function scanPdf() {
  const text = 'Marriage certificate (scanned; a browser test upload)';
  const stream = `BT /F1 18 Tf 72 760 Td (${text}) Tj ET 60 400 m 535 400 l 535 700 l 60 700 l h S`;
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets = [];
  objs.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

async function api(method, path, token, body) {
  const r = await fetch(BASE + path, {
    method,
    headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json', 'idempotency-key': String(Math.random()) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function devToken(body) {
  const r = await fetch(BASE + '/dev/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await r.json()).token;
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});

async function newPage(name) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  pages.push([name, page]);
  page.setDefaultTimeout(T);
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    const text = m.text();
    if (expectBadRequests && /status of 400/.test(text)) return;
    report.console.push(`${name}: [${m.type()}] ${text}`);
  });
  page.on('pageerror', (e) => report.console.push(`${name}: [pageerror] ${e.message}`));
  return page;
}

async function axe(page, label) {
  await page.evaluate(AXE);
  const r = await page.evaluate(async () => {
    const res = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return { violations: res.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) })), passes: res.passes.length };
  });
  report.axe.push({ page: label, violations: r.violations, passes: r.passes });
  check(r.violations.length === 0, `axe: ${label} has no WCAG 2.1 A/AA violations (${r.passes} rules passed)` + (r.violations.length ? ' ' + JSON.stringify(r.violations) : ''));
}

async function shoot(page, name) {
  // Nothing a page shows is a placeholder of the script's own: no null, undefined or
  // [object ...].
  const text = await page.evaluate(() => document.body.innerText);
  const leak = text.match(/\bnull\b|\bundefined\b|\[object /);
  check(!leak, `${name} shows no null, undefined or [object` + (leak ? ` (found ${JSON.stringify(leak[0])})` : ''));
  // A family's pages name sites, windows, people and regions, never by internal codes.
  if (name.startsWith('guardian')) {
    const code = text.match(/\b[a-z]+_[a-z_]+\b|\b[a-z_]+:[a-z_]+|\bSC\d{6,}|\bH\d{9}\b|(?<![\d])33\d{4}(?![\d])/);
    check(!code, `${name} shows no internal code` + (code ? ` (found ${JSON.stringify(code[0])})` : ''));
  }
  for (const [w, h, tag] of [[360, 740, 'phone'], [1280, 900, 'desktop']]) {
    await page.setViewportSize({ width: w, height: h });
    await page.waitForTimeout(100);
    const file = join(SHOTS, `${name}-${tag}.png`);
    await page.screenshot({ path: file, fullPage: true });
    report.screenshots.push(file);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function signIn(page, preset) {
  await page.goto(BASE + '/');
  await page.getByRole('button', { name: preset }).click();
  await page.waitForURL(/\.html/);
}

const born = yesterday();
try {
  // The hospital's system pushes the delivery record (the API, as it does in production).
  const hospital = await devToken({ role: 'dept_officer', dept: 'hospital', region: '330302', hospital: 'H330302001', sub: 'hospital-system' });
  await api('POST', '/v1/births', hospital, {
    institution_code: 'H330302001', mother_id_number: '330302198910100265', birth_time: born.rfc,
    sex: 'male', birth_order: 1, multiple_birth: 1, weight_g: 3400, length_cm: 51, gestational_weeks: 39,
  });

  // --- The sign-in page.
  const parent = await newPage('guardian');
  await parent.goto(BASE + '/');
  // The page renders after it has read config.json: wait for it, as a user would.
  await parent.getByRole('heading', { name: '示例身份' }).waitFor();
  check(await parent.getByRole('button', { name: /^家长：/ }).count() === 3, 'the sign-in page offers the sample identities');
  await axe(parent, 'sign-in');
  await shoot(parent, 'sign-in');

  // --- A parent applies; a form with mistakes shows each beside its field.
  await signIn(parent, '家长：张伟（温州鹿城，父亲）');
  await parent.getByRole('link', { name: '新的申请', exact: true }).click();
  await parent.getByRole('heading', { name: '出生“一件事”联办申请' }).waitFor();
  // The operator's catalogue holds a 子项 of 出生 too: the form asks which, birth first.
  const bundleChoice = parent.getByRole('group', { name: '办理事项' }).getByLabel('申请办理');
  const offered = await bundleChoice.locator('option').allTextContents();
  check(offered.length === 2 && offered[0] === '出生一件事' && offered.includes('出生医学证明和预防接种证'),
    `the form offers the bundles open for applications (${offered.join('、')})`);
  check(await bundleChoice.inputValue() === 'birth', 'the birth bundle is chosen unless the parent picks another');
  await parent.getByRole('group', { name: '新生儿' }).getByLabel('姓名').fill('张小宇');
  await parent.getByRole('group', { name: '母亲' }).getByLabel('公民身份号码').fill('330302198910100266');
  expectBadRequests = true;
  await parent.getByRole('button', { name: '提交申请' }).click();
  await parent.locator('.error-summary').waitFor();
  expectBadRequests = false;
  const errors = await parent.locator('.field-error:not(:empty)').count();
  check(errors >= 3, `the form's problems are shown beside their fields (${errors} fields)`);
  const motherErr = await parent.locator('[data-error-for="mother.id_number"]').textContent();
  check(motherErr && motherErr.length > 0 && !/[a-z_]{4,}/.test(motherErr), `the mother's ID number has its own message in Chinese: ${motherErr}`);
  check(await parent.locator('[data-field="mother.id_number"]').getAttribute('aria-invalid') === 'true', 'the wrong field is marked invalid');
  await axe(parent, 'guardian: the form with its problems');
  await shoot(parent, 'guardian-form-errors');

  const fill = async (label, value, scope) => (scope ? parent.getByRole('group', { name: scope }) : parent).getByLabel(label, { exact: true }).fill(value);
  // The consent step comes first; the parent agrees to data sharing.
  await parent.getByRole('group', { name: '数据共享授权' }).getByRole('checkbox').check();
  await parent.getByRole('group', { name: '新生儿' }).getByLabel('性别').selectOption('male');
  await fill('出生时间（北京时间）', born.input, '新生儿');
  await parent.getByRole('group', { name: '新生儿' }).getByLabel('出生医院').selectOption('H330302001');
  await fill('体重（克）', '3400', '新生儿');
  await fill('身长（厘米）', '51', '新生儿');
  await fill('孕周', '39', '新生儿');
  await fill('姓名', '刘芳', '母亲');
  await fill('公民身份号码', '330302198910100265', '母亲');
  await fill('姓名', '张伟', '父亲');
  await fill('公民身份号码', '330302198808080157', '父亲');
  await fill('邮寄地址', '温州市鹿城区人民路 1 号', '证件领取方式');
  await fill('姓名', '张伟', '申请人');
  await fill('联系电话', '13900000000', '申请人');
  await parent.getByRole('button', { name: '提交申请' }).click();

  // --- No marriage record binds the father to the mother: the case waits for her, and
  // she confirms it in her own account.
  await parent.getByText('待母亲确认').first().waitFor();
  const pendingId = (await parent.locator('.case-id').textContent()).trim();
  const mother = await newPage('mother');
  await signIn(mother, '家长：刘芳（温州鹿城，母亲）');
  await mother.getByRole('heading', { name: '我的申请' }).waitFor();
  check(await mother.getByRole('link', { name: '张小宇' }).count() === 1, 'the mother lists the case that names her');
  await mother.goto(BASE + '/guardian.html#/case/' + pendingId);
  await mother.getByRole('heading', { name: '新生儿母亲确认' }).waitFor();
  const fatherShown = await mother.locator('body').textContent();
  check(!fatherShown.includes('330302198808080157'), "the father's ID number is masked for the mother");
  await axe(mother, 'guardian: the mother confirms');
  await shoot(mother, 'guardian-mother-confirms');
  await mother.getByRole('button', { name: '确认申请' }).click();
  await mother.getByText('已确认申请。').waitFor();

  // --- The one notice: the marriage record is not in data sharing.
  const notice = parent.locator('.one-notice');
  await notice.waitFor();
  check((await notice.textContent()).includes('结婚证'), 'the one notice asks for the marriage certificate');
  const caseId = (await parent.locator('.case-id').textContent()).trim();
  console.log('case', caseId);
  await axe(parent, 'guardian: the one notice');
  await shoot(parent, 'guardian-notice');

  const upload = async (page, name) => {
    await page.getByLabel('材料类型').selectOption('marriage_certificate');
    await page.getByLabel(/选择文件/).setInputFiles({ name, mimeType: 'application/pdf', buffer: scanPdf() });
    await page.getByRole('button', { name: '上传', exact: true }).click();
    await page.locator('ul.uploaded li', { hasText: name }).waitFor();
  };
  await upload(parent, '结婚证.pdf');
  check(true, 'the material was uploaded straight to its upload URL');
  await parent.getByRole('button', { name: '重新提交' }).click();
  await parent.locator('#flash', { hasText: '已重新提交' }).waitFor();
  await parent.locator('.one-notice').waitFor({ state: 'detached' });
  check(true, 'after resubmission the notice is gone');

  // --- The hospital's officer confirms the birth on the facts the page shows: the form's
  // birth details beside the delivery record the hospital's system filed.
  const hospitalOfficer = await devToken({ role: 'dept_officer', dept: 'hospital', region: '33', hospital: 'H330302001', sub: 'hospital-officer-1' });
  const ward = await newPage('hospital officer');
  await ward.goto(BASE + '/');
  await ward.evaluate((t) => sessionStorage.setItem('onething.session', JSON.stringify({ token: t, role: 'dept_officer', dept: 'hospital', region: '33', label: '助产机构' })), hospitalOfficer);
  let wardTask = null;
  for (let i = 0; i < 60 && !wardTask; i++) {
    await ward.goto(BASE + '/officer.html#/');
    await ward.reload();
    await ward.getByRole('heading', { name: '待办任务' }).waitFor();
    if (await ward.locator('table.tasks a').count()) wardTask = ward.locator('table.tasks a').first();
    else await ward.waitForTimeout(500);
  }
  check(wardTask, "the case is in the hospital's queue");
  await wardTask.click();
  await ward.locator('form.decision').waitFor();
  const facts = await ward.locator('section.facts').innerText();
  const records = await ward.locator('section.records').innerText();
  check(facts.includes('3400') && facts.includes('330302198910100265') && facts.includes('张小宇'),
    "the hospital's page shows the form's birth details and the mother's ID number unmasked");
  check(records.includes('分娩记录') && records.includes('3400') && records.includes('申请与共享数据记录一致'),
    'beside them the delivery record, and that it matches');
  const wardChecks = await ward.locator('fieldset.checklist label').allInnerTexts();
  check(wardChecks[0].startsWith('分娩记录与申请一致'), `the checklist reads in the order the hospital checks: ${wardChecks.join(' / ')}`);
  await ward.getByLabel(/^分娩记录与申请一致/).check();
  await ward.getByLabel('母亲身份属实').check();
  await axe(ward, 'officer: the hospital confirms a birth');
  await shoot(ward, 'officer-hospital-task');
  await ward.getByRole('button', { name: '提交审核意见' }).click();
  await ward.locator('#flash', { hasText: '已通过' }).waitFor();

  // --- A police officer returns the case, having looked at the material in the page.
  const police = await newPage('police');
  await signIn(police, '公安：鹿城区户籍民警');
  let taskLink = null;
  for (let i = 0; i < 60 && !taskLink; i++) {
    await police.goto(BASE + '/officer.html#/');
    await police.reload();
    await police.getByRole('heading', { name: '待办任务' }).waitFor();
    if (await police.locator('table.tasks a').count()) taskLink = police.locator('table.tasks a').first();
    else await police.waitForTimeout(500);
  }
  check(taskLink, "the case is in the police queue of the officer's county");
  await axe(police, 'officer: the queue');
  await taskLink.click();
  await police.locator('form.decision').waitFor();
  const policeFacts = await police.locator('section.facts').innerText();
  const policeRecords = await police.locator('section.records').innerText();
  check(policeFacts.includes('330302198808080157') && policeFacts.includes('随父'),
    "the police page shows the father's ID number unmasked and that the baby registers with him");
  check(policeRecords.includes('户籍（共享数据）') && (await police.locator('.task-view').innerText()).includes('结婚证（上传）'),
    'beside them the household record from data sharing and the uploaded marriage certificate');
  check((await police.locator('fieldset.checklist').innerText()).includes('婚姻登记记录、书面告知承诺书或亲子鉴定证明'), "the police's checklist");
  await police.getByRole('button', { name: /在页面中查看/ }).first().click();
  await police.locator('.material-viewer iframe, .material-viewer img').waitFor();
  check(true, 'the officer opened the uploaded material in the page');
  await axe(police, 'officer: a task with its decision form');
  await shoot(police, 'officer-task');
  const reason = '结婚证扫描件不清晰，请重新上传清晰完整的结婚证';
  // By keyboard (headless Chromium's PDF viewer in the frame above keeps mouse clicks
  // from reaching the page; the form must work from the keyboard anyway).
  await police.getByLabel('退回补正').focus();
  await police.keyboard.press('Space');
  check(await police.getByLabel('退回补正').isChecked(), 'the decision is chosen with the keyboard');
  await police.getByLabel(/^理由/).fill(reason);
  await police.getByRole('button', { name: '提交审核意见' }).press('Enter');
  await police.locator('#flash', { hasText: '已退回' }).waitFor();

  // --- The parent sees the reasons, uploads again, resubmits.
  await parent.goto(BASE + '/guardian.html#/case/' + caseId);
  await parent.reload();
  const reasons = parent.locator('.return-reasons');
  await reasons.waitFor();
  check((await reasons.textContent()).includes(reason), "the parent's page shows the police's reasons");
  await axe(parent, 'guardian: a returned case');
  await upload(parent, '结婚证-清晰.pdf');
  await parent.getByRole('button', { name: '重新提交' }).click();
  await parent.locator('#flash', { hasText: '已重新提交' }).waitFor();

  // --- The officer approves.
  let approved = false;
  for (let i = 0; i < 60 && !approved; i++) {
    await police.goto(BASE + '/officer.html#/');
    await police.reload();
    await police.getByRole('heading', { name: '待办任务' }).waitFor();
    if (await police.locator('table.tasks a').count()) {
      await police.locator('table.tasks a').first().click();
      await police.locator('form.decision').waitFor();
      await police.getByLabel(/^婚姻登记记录/).check();
      await police.getByRole('button', { name: '提交审核意见' }).click();
      await police.locator('#flash', { hasText: '已通过' }).waitFor();
      approved = true;
    } else {
      await police.waitForTimeout(500);
    }
  }
  check(approved, 'the officer approved the corrected case');

  // --- The parent sees `completed` and downloads a certificate.
  let completed = false;
  for (let i = 0; i < 120 && !completed; i++) {
    await parent.goto(BASE + '/guardian.html#/case/' + caseId);
    await parent.reload();
    await parent.locator('h2 .badge').waitFor();
    completed = (await parent.locator('h2 .badge').textContent()) === '已办结' && (await parent.locator('a.cert-download').count()) >= 5;
    if (!completed) await parent.waitForTimeout(500);
  }
  check(completed, 'the case is completed and its certificates are listed with downloads');
  const href = await parent.locator('a.cert-download').first().getAttribute('href');
  const pdf = await parent.request.get(href);
  const bytes = await pdf.body();
  check(pdf.ok() && pdf.headers()['content-type'] === 'application/pdf' && bytes.subarray(0, 5).toString() === '%PDF-', `a certificate downloads as a PDF (${bytes.length} bytes)`);
  await axe(parent, 'guardian: a completed case');
  await shoot(parent, 'guardian-completed');

  // A bad rating (it goes to a department's inbox and into the report).
  await parent.getByLabel('评价', { exact: true }).selectOption('2');
  await parent.getByLabel('意见（选填）').fill('等待时间较长');
  await parent.getByRole('button', { name: '提交评价' }).click();
  await parent.locator('#flash', { hasText: '感谢' }).waitFor();

  // An appointment to pick the documents up, on the next working day with free slots.
  await parent.getByRole('link', { name: '预约', exact: true }).click();
  await parent.getByRole('button', { name: '查询可预约时段' }).waitFor();
  await parent.getByLabel('办理地点').selectOption('SC330302');
  await parent.getByLabel('事项').selectOption('pickup');
  let booked = null;
  for (let d = 1; d <= 10 && !booked; d++) {
    const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date(Date.now() + d * 86400000));
    await parent.getByLabel('日期').fill(day);
    await parent.getByRole('button', { name: '查询可预约时段' }).click();
    await parent.locator('.slots > *').first().waitFor();
    if (await parent.locator('input[name=slot]:not([disabled])').count()) {
      await parent.locator('input[name=slot]:not([disabled])').first().check();
      await parent.getByRole('button', { name: '确认预约' }).click();
      await parent.locator('#flash', { hasText: '预约成功' }).waitFor();
      booked = day;
    }
  }
  check(booked, `the parent booked a pick-up at the service centre on ${booked}`);
  await parent.getByRole('button', { name: '取消预约' }).waitFor();
  await axe(parent, 'guardian: appointments');
  // The paged list of the family's cases (one page: no "加载更多").
  await parent.getByRole('link', { name: '我的申请', exact: true }).click();
  await parent.getByRole('heading', { name: '我的申请' }).waitFor();
  await shoot(parent, 'guardian-cases');
  // 长辈版: larger type, one column; the form leaves out what one baby does not need.
  await parent.getByRole('button', { name: '长辈版' }).click();
  check(await parent.evaluate(() => getComputedStyle(document.documentElement).fontSize) === '20px', '长辈版 sets the larger type');
  await parent.getByRole('link', { name: '新的申请', exact: true }).click();
  await parent.getByRole('heading', { name: '出生“一件事”联办申请' }).waitFor();
  check(!(await parent.getByLabel('同胎数').isVisible()), '长辈版 leaves out the twins fields');
  await axe(parent, 'guardian: the form in 长辈版');
  await shoot(parent, 'guardian-elder-form');
  await parent.getByRole('button', { name: '标准版' }).click();

  // --- The 办事指南, for anyone: materials, steps, FAQ and the 承诺书 template.
  const visitor = await newPage('visitor');
  await visitor.goto(BASE + '/guide.html');
  await visitor.getByRole('heading', { name: '所需材料' }).waitFor();
  const guideText = await visitor.locator('#view').innerText();
  check(guideText.includes('新生儿父母双方居民身份证') && guideText.includes('书面告知承诺书') && guideText.includes('常见问题'),
    'the guide lists the materials, the FAQ and the 承诺书 template');
  await axe(visitor, 'the 办事指南');
  await shoot(visitor, 'guide');
  // The catalogue's other bundle has its own guide, linked from this one.
  await visitor.getByRole('link', { name: '出生医学证明和预防接种证' }).click();
  await visitor.getByRole('heading', { name: '出生医学证明和预防接种证' }).waitFor();
  const subText = await visitor.locator('#view').innerText();
  const flow = await visitor.locator('section', { has: visitor.getByRole('heading', { name: '办理流程' }) }).locator('li').allTextContents();
  check(subText.includes('应在 2 个工作日内办结') && flow.length === 3 && flow[1].includes('预防接种证办理'),
    `the 子项 guide shows its own time limit and items, from the catalogue (${flow.join(' / ')})`);

  // --- The supervisor's charts.
  const sup = await newPage('supervisor');
  await signIn(sup, '监管：全省效能监督');
  const bars = sup.locator('#chart-ontime rect.bar');
  await bars.first().waitFor();
  const widths = await bars.evaluateAll((els) => els.map((e) => Number(e.getAttribute('width'))));
  check(widths.length >= 3 && widths.some((w) => w > 0), `the on-time chart has a bar per department with data (${widths.join(', ')})`);
  const ratingBars = await sup.locator('#chart-ratings rect.bar').evaluateAll((els) => els.map((e) => Number(e.getAttribute('width'))));
  check(ratingBars[3] > 0, 'the ratings chart shows the two-star rating');
  const bundleRows = await sup.getByRole('table', { name: '各一件事办理情况' }).locator('tbody tr').allInnerTexts();
  check(bundleRows.length >= 1 && bundleRows[0].startsWith('出生一件事'), `the report counts each 一件事's cases (${bundleRows.join(' / ')})`);
  await axe(sup, 'supervisor: the report');
  await shoot(sup, 'supervisor-report');
  await sup.getByRole('link', { name: '督办清单' }).click();
  await sup.getByRole('heading', { name: '督办清单' }).waitFor();
  await axe(sup, 'supervisor: escalations');
  await shoot(sup, 'supervisor-escalations');

  // --- The window officer: the offline form, a case, the day's appointments.
  const win = await newPage('window');
  await signIn(win, '窗口：鹿城区行政服务中心');
  await win.getByRole('heading', { name: '代办线下申请' }).waitFor();
  await axe(win, 'window: the offline form');
  await shoot(win, 'window-form');
  // An offline application for another family, entered at the window.
  const wfill = (group, label, value) => win.getByRole('group', { name: group }).getByLabel(label, { exact: true }).fill(value);
  await win.getByRole('group', { name: '数据共享授权' }).getByRole('checkbox').check();
  await wfill('新生儿', '姓名', '王小溪');
  await win.getByRole('group', { name: '新生儿' }).getByLabel('性别').selectOption('female');
  await wfill('新生儿', '出生时间（北京时间）', born.input);
  await win.getByRole('group', { name: '新生儿' }).getByLabel('出生医院').selectOption('H330106001');
  await wfill('新生儿', '体重（克）', '3250');
  await wfill('新生儿', '身长（厘米）', '50');
  await wfill('新生儿', '孕周', '39');
  await wfill('母亲', '姓名', '李梅');
  await wfill('母亲', '公民身份号码', '330106199203040223');
  await wfill('父亲', '姓名', '王海');
  await wfill('父亲', '公民身份号码', '330106199001010130');
  await wfill('申请人', '姓名', '王海');
  await wfill('申请人', '公民身份号码', '330106199001010130');
  await wfill('申请人', '联系电话', '13800000000');
  await win.getByRole('button', { name: '提交并受理' }).click();
  await win.locator('section.notice').waitFor();
  check((await win.locator('section.notice').textContent()).includes('鹿城区行政服务中心'), 'the acceptance notice names the window that took the application');
  await win.emulateMedia({ media: 'print' });
  check(!(await win.locator('header.top').isVisible()) && (await win.locator('section.notice').isVisible()), 'printed, the page is the acceptance notice without the navigation');
  await win.emulateMedia({ media: 'screen' });
  await axe(win, 'window: an accepted offline case');

  await win.goto(BASE + '/window.html#/appointments');
  await win.getByLabel('日期').fill(booked);
  await win.getByRole('button', { name: '查看' }).click();
  await win.locator('caption', { hasText: '共 1 个预约' }).waitFor();
  check(true, "the window officer sees the parent's appointment in the site's day");
  await axe(win, "window: the day's appointments");

  // --- The feedback inbox of the department the rating went to.
  const inbox = await newPage('inbox');
  const sc = await devToken({ role: 'dept_officer', dept: 'service_center', region: '330302', sub: 'sc-330302' });
  await inbox.goto(BASE + '/');
  await inbox.evaluate((t) => sessionStorage.setItem('onething.session', JSON.stringify({ token: t, role: 'dept_officer', dept: 'service_center', region: '330302', label: '行政服务中心' })), sc);
  await inbox.goto(BASE + '/officer.html#/feedback');
  await inbox.getByRole('heading', { name: '好差评与投诉' }).waitFor();
  const item = inbox.locator('section.card', { hasText: '差评' });
  await item.waitFor();
  check((await item.textContent()).includes(caseId), "the two-star rating is in the service centre's inbox");
  await axe(inbox, 'officer: the feedback inbox');
  await item.getByLabel('回访情况').fill('已电话回访，申请人表示理解');
  await item.getByRole('button', { name: '登记回访' }).click();
  await inbox.locator('#flash', { hasText: '已登记回访' }).waitFor();
  const again = inbox.locator('section.card', { hasText: caseId });
  await again.getByLabel('整改情况').fill('增加窗口人手，缩短等待时间');
  await again.getByRole('button', { name: '登记整改' }).click();
  await inbox.locator('#flash', { hasText: '已登记整改' }).waitFor();
  await inbox.getByText('暂无待跟进的差评或投诉。').waitFor();
  check(true, 'visited back and rectified, the bad rating leaves the open inbox');

  check(report.console.length === 0, 'no page logged a console error or a CSP violation' + (report.console.length ? ':\n' + report.console.join('\n') : ''));
} catch (e) {
  // What each page showed when it failed, for the log's reader.
  for (const [name, page] of pages) {
    await page.screenshot({ path: join(SHOTS, `failed-${name}.png`), fullPage: true }).catch(() => {});
    const text = await page.locator('main').innerText().catch(() => '');
    console.error(`--- ${name} at ${page.url()}:\n${text.slice(0, 1500)}`);
  }
  throw e;
} finally {
  writeFileSync(join(SHOTS, 'report.json'), JSON.stringify(report, null, 2));
  await browser.close();
}
console.log(`axe: ${report.axe.length} page states checked, ${report.axe.reduce((n, a) => n + a.violations.length, 0)} violations`);
console.log(`screenshots: ${report.screenshots.length} in ${SHOTS}`);
