// The one registration form (POST /v1/applications), for a parent online or a window
// officer entering an offline application; also the corrections on a resubmission
// (a JSON merge patch of the fields that changed).

import { api, h, field } from './common.js';

let sitesCache = null;
export async function sites() {
  if (!sitesCache) sitesCache = (await api('/v1/sites')).sites;
  return sitesCache;
}

const ETHNICITY = '汉族';

/** Beijing-time `datetime-local` value of an RFC 3339 time, and back. */
function toLocalInput(t) {
  if (!t) return '';
  const m = String(t).match(/^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})/);
  return m ? m[1] : '';
}
function fromLocalInput(v) {
  return v ? v + ':00+08:00' : '';
}

function num(v) {
  if (v === '' || v === null || v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : v;
}

/**
 * The form as elements. `mode`: 'online' (a parent), 'offline' (a window officer), or
 * 'correct' (a resubmission: the fields that identify the application are read-only).
 * `initial` is a form to start from.
 */
// The bundles open for applications on this form (the catalogue's bundles whose guide
// says online): 出生一件事 and any 子项 of it the operator has applied.
export async function openBundles() {
  const cat = await api('/v1/catalogue');
  const open = [];
  for (const b of cat.bundles) {
    const g = await api('/v1/guide?bundle=' + encodeURIComponent(b.bundle_id)).catch(() => null);
    if (g && g.online) open.push([b.bundle_id, b.name]);
  }
  return open;
}

export async function applicationForm({ mode, sub, initial, siteId, prefill = {}, bundles = [] }) {
  const all = await sites();
  // Births in Zhejiang's midwifery institutions are this service's: only those are offered.
  const hospitals = all.filter((s) => s.kind === 'hospital' && String(s.county_code || '').startsWith('33'));
  const pickups = all.filter((s) => s.pickup);
  const offline = mode === 'offline' || (initial && ['service_center', 'hospital'].includes(initial.channel));
  const fixed = mode === 'correct';
  const f = initial || {};
  // What the form starts from: the case's form, else the portal's identity claims.
  const v = (path, dflt = '') => {
    const x = path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), f);
    if (x === undefined || x === null) return prefill[path] !== undefined ? prefill[path] : dflt;
    return x;
  };
  const ro = (yes) => (yes ? { disabled: true } : {});

  const parts = [];
  if (!fixed && bundles.length > 1) {
    // More than one 一件事 on this form (a 子项 of 出生): which one, before anything else.
    parts.push(h('fieldset', {},
      h('legend', {}, '办理事项'),
      field('bundle', '申请办理', { options: bundles, value: v('bundle', 'birth') })));
  }
  if (!fixed) {
    // The consent step: data sharing only with the applicant's say-so, and what declining
    // means, before anything else is asked.
    parts.push(h('fieldset', { class: 'consent' },
      h('legend', {}, '数据共享授权'),
      field('consent.data_sharing', '本人同意通过政务数据共享获取父母的身份证、户口簿和婚姻登记信息，仅用于办理本事项', { type: 'checkbox' },
        '不同意的，可以继续申请，但须上传上述全部材料。')));
  }
  if (offline) {
    parts.push(h('fieldset', {},
      h('legend', {}, '受理窗口'),
      h('div', { class: 'grid three' },
        field('channel', '受理渠道', { options: [['service_center', '行政服务中心窗口'], ['hospital', '医院窗口']], value: v('channel', 'service_center'), ...ro(fixed) }),
        field('window.site', '受理点', { options: all.map((s) => [s.site_id, s.name]), value: v('window.site', siteId || ''), ...ro(fixed) }),
        field('window.number', '窗口号', { value: v('window.number', '1'), ...ro(fixed) }))));
  }
  parts.push(h('fieldset', {},
    h('legend', {}, '新生儿'),
    h('div', { class: 'grid three' },
      field('newborn.name', '姓名', { value: v('newborn.name'), autocomplete: 'off' }),
      field('newborn.sex', '性别', { options: [['', '请选择'], ['female', '女'], ['male', '男']], value: v('newborn.sex') }),
      field('newborn.birth_time', '出生时间（北京时间）', { type: 'datetime-local', value: toLocalInput(v('newborn.birth_time')), ...ro(fixed) }),
      field('newborn.hospital_code', '出生医院', { options: [['', '请选择'], ...hospitals.map((s) => [s.site_id, s.name])], value: v('newborn.hospital_code') }),
      field('newborn.weight_g', '体重（克）', { type: 'number', inputmode: 'numeric', min: '300', max: '8000', value: v('newborn.weight_g') }),
      field('newborn.length_cm', '身长（厘米）', { type: 'number', inputmode: 'numeric', min: '20', max: '70', value: v('newborn.length_cm') }),
      field('newborn.gestational_weeks', '孕周', { type: 'number', inputmode: 'numeric', min: '20', max: '45', value: v('newborn.gestational_weeks') }),
      field('newborn.ethnicity', '民族', { value: v('newborn.ethnicity', ETHNICITY) }),
      // Twins and more: not shown in 长辈版 (one baby, the default).
      h('div', { class: 'advanced' }, field('newborn.birth_order', '胎次（双胞胎填 1 或 2）', { type: 'number', min: '1', max: '9', value: v('newborn.birth_order', 1), ...ro(fixed) })),
      h('div', { class: 'advanced' }, field('newborn.multiple_birth', '同胎数', { type: 'number', min: '1', max: '9', value: v('newborn.multiple_birth', 1) })))));
  parts.push(h('fieldset', {},
    h('legend', {}, '母亲'),
    h('div', { class: 'grid two' },
      field('mother.name', '姓名', { value: v('mother.name'), autocomplete: 'off' }),
      field('mother.id_number', '公民身份号码', { value: v('mother.id_number'), autocomplete: 'off', maxlength: '18', ...ro(fixed) }))));
  const noFather = field('no_father', '不登记父亲信息（随母落户）', { type: 'checkbox' });
  const noFatherBox = noFather.querySelector('input');
  if (initial && initial.father === null) noFatherBox.checked = true;
  const fatherFields = h('div', { class: 'grid two' },
    field('father.name', '姓名', { value: v('father.name'), autocomplete: 'off' }),
    field('father.id_number', '公民身份号码', { value: v('father.id_number'), autocomplete: 'off', maxlength: '18' }));
  const syncFather = () => {
    fatherFields.hidden = noFatherBox.checked;
  };
  noFatherBox.addEventListener('change', syncFather);
  syncFather();
  parts.push(h('fieldset', {}, h('legend', {}, '父亲'), noFather, fatherFields));
  parts.push(h('fieldset', {},
    h('legend', {}, '落户与医保、社保卡'),
    h('div', { class: 'grid two' },
      field('household.register_with', '随谁落户', { options: [['father', '随父落户'], ['mother', '随母落户']], value: v('household.register_with', 'father') })),
    field('insurance.enrol_newborn', '为新生儿办理城乡居民医保参保登记', { type: 'checkbox' }),
    field('insurance.maternity_benefit', '申领生育津贴', { type: 'checkbox' }),
    field('social_security_card.apply', '申领社会保障卡', { type: 'checkbox' })));
  const deliveryOptions = [['mail', '邮寄'], ['pickup', '到指定地点自取']];
  if (offline) deliveryOptions.unshift(['window', '在受理窗口领取']);
  parts.push(h('fieldset', {},
    h('legend', {}, '证件领取方式'),
    h('div', { class: 'grid three' },
      field('delivery.method', '领取方式', { options: deliveryOptions, value: v('delivery.method', offline ? 'window' : 'mail') }),
      field('delivery.address', '邮寄地址', { value: v('delivery.address'), autocomplete: 'street-address' }, '选择邮寄时填写'),
      field('delivery.pickup_site', '自取地点', { options: [['', '（不自取）'], ...pickups.map((s) => [s.site_id, s.name])], value: v('delivery.pickup_site') }))));
  const relations = [['father', '父亲'], ['mother', '母亲']];
  if (offline) relations.push(['guardian', '其他监护人']);
  parts.push(h('fieldset', {},
    h('legend', {}, '申请人'),
    mode === 'online' ? h('p', { class: 'hint' }, '网上申请须由新生儿的父亲或母亲本人办理。') : null,
    h('div', { class: 'grid two' },
      field('applicant.name', '姓名', { value: v('applicant.name'), autocomplete: 'name', ...ro(fixed) }),
      field('applicant.id_number', '公民身份号码', { value: v('applicant.id_number', mode === 'online' ? sub : ''), maxlength: '18', ...ro(fixed || mode === 'online') }),
      field('applicant.relation', '与新生儿关系', { options: relations, value: v('applicant.relation', 'father'), ...ro(fixed) }),
      field('applicant.phone', '联系电话', { type: 'tel', value: v('applicant.phone'), autocomplete: 'tel' }))));

  const form = h('form', { novalidate: true, class: 'application' }, parts);
  for (const [name, dflt] of [['insurance.enrol_newborn', true], ['insurance.maternity_benefit', false], ['social_security_card.apply', true]]) {
    const box = form.querySelector(`[data-field="${name}"]`);
    box.checked = initial ? Boolean(v(name, false)) : dflt;
  }
  return form;
}

/** The form's JSON, as the API takes it. */
export function collect(form, channel) {
  const val = (name) => {
    const el = form.querySelector(`[data-field="${name}"]`);
    if (!el) return undefined;
    if (el.type === 'checkbox') return el.checked;
    return el.value.trim();
  };
  const noFather = val('no_father');
  const out = {
    channel: val('channel') || channel,
    bundle: val('bundle') || undefined,
    newborn: {
      name: val('newborn.name'),
      sex: val('newborn.sex'),
      birth_time: fromLocalInput(val('newborn.birth_time')),
      hospital_code: val('newborn.hospital_code'),
      weight_g: num(val('newborn.weight_g')),
      length_cm: num(val('newborn.length_cm')),
      gestational_weeks: num(val('newborn.gestational_weeks')),
      ethnicity: val('newborn.ethnicity'),
      birth_order: num(val('newborn.birth_order')),
      multiple_birth: num(val('newborn.multiple_birth')),
    },
    mother: { name: val('mother.name'), id_number: val('mother.id_number').toUpperCase() },
    father: noFather ? null : { name: val('father.name'), id_number: val('father.id_number').toUpperCase() },
    household: { register_with: val('household.register_with') },
    insurance: { enrol_newborn: val('insurance.enrol_newborn'), maternity_benefit: val('insurance.maternity_benefit') },
    social_security_card: { apply: val('social_security_card.apply') },
    delivery: {
      method: val('delivery.method'),
      address: val('delivery.address') || null,
      pickup_site: val('delivery.pickup_site') || null,
    },
    applicant: {
      name: val('applicant.name'),
      id_number: val('applicant.id_number').toUpperCase(),
      relation: val('applicant.relation'),
      phone: val('applicant.phone'),
    },
  };
  if (val('window.site') !== undefined) out.window = { site: val('window.site'), number: val('window.number') };
  const consent = val('consent.data_sharing');
  if (consent !== undefined) out.consent = { data_sharing: consent, at: new Date().toISOString() };
  return out;
}

/** A JSON merge patch taking `from` to `to` (only what changed). */
export function mergePatch(from, to) {
  if (typeof to !== 'object' || to === null || Array.isArray(to) || typeof from !== 'object' || from === null) {
    return JSON.stringify(from) === JSON.stringify(to) ? undefined : to;
  }
  const out = {};
  for (const k of Object.keys(to)) {
    const d = mergePatch(from[k] === undefined ? null : from[k], to[k]);
    if (d !== undefined) out[k] = d;
  }
  return Object.keys(out).length ? out : undefined;
}

