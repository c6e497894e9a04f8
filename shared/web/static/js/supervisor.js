// The supervisor's page: the report for a period, region and department with charts
// (on-time rate per department, handling time, ratings by level, follow-ups), and the
// escalation list (督办).

import { api, h, field, frame, router, show, busy, pager, fmtDate, today } from './common.js';
import { STEP, DEPT } from './labels.js';

const s = frame(['supervisor'], [['#/', '统计报表'], ['#/escalations', '督办清单']]);
const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

/**
 * A horizontal bar chart: rows of [label, value, text]; `max` the full scale. Drawn as
 * SVG with a text alternative, and the same figures in a table for screen readers.
 */
function barChart({ id, title, rows, max, unit, cls }) {
  const rowH = 30;
  const labelW = 110;
  const barW = 260;
  const width = labelW + barW + 190;
  const height = rows.length * rowH + 10;
  const scale = max || Math.max(1, ...rows.map((r) => r[1] || 0));
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': id + '-t', class: 'chart-svg' });
  chart.append(svg('title', { id: id + '-t' }, `${title}：` + rows.map((r) => `${r[0]} ${r[2]}`).join('，')));
  rows.forEach(([label, value, text], i) => {
    const y = i * rowH + 5;
    chart.append(svg('text', { x: labelW - 8, y: y + 18, 'text-anchor': 'end' }, label));
    chart.append(svg('rect', { x: labelW, y: y + 4, width: barW, height: rowH - 10, fill: '#eef2f6' }));
    const w = value === null || value === undefined ? 0 : Math.max(value > 0 ? 2 : 0, (value / scale) * barW);
    chart.append(svg('rect', { x: labelW, y: y + 4, width: w.toFixed(1), height: rowH - 10, class: 'bar ' + (cls ? cls(value, i) : '') }));
    chart.append(svg('text', { x: labelW + barW + 8, y: y + 18 }, text));
  });
  chart.append(svg('line', { x1: labelW, y1: 0, x2: labelW, y2: height, class: 'axis' }));
  const table = h('details', {}, h('summary', {}, '查看数据表'), h('table', {},
    h('caption', { class: 'visually-hidden' }, title),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, '项目'), h('th', { scope: 'col' }, unit || '数值'))),
    h('tbody', {}, rows.map((r) => h('tr', {}, h('th', { scope: 'row' }, r[0]), h('td', {}, r[2]))))));
  return h('figure', { class: 'card chart', id },
    h('figcaption', {}, h('strong', {}, title)), chart, table);
}

function pct(v) {
  return v === null || v === undefined ? '无数据' : `${Math.round(v * 10) / 10}%`;
}

function hours(v) {
  return v === null || v === undefined ? '无数据' : `${Math.round(v * 10) / 10} 小时`;
}

function kpi(label, value) {
  return h('div', { class: 'kpi' }, h('span', { class: 'num' }, value), h('span', {}, label));
}

async function report() {
  const q = new URLSearchParams(location.hash.split('?')[1] || '');
  const form = h('form', { novalidate: true, class: 'card no-print' },
    h('div', { class: 'grid four' },
      field('from', '起始日期', { type: 'date', value: q.get('from') || today(-30) }),
      field('to', '截止日期', { type: 'date', value: q.get('to') || today() }),
      field('region', '地区代码（空为本人全部辖区）', { inputmode: 'numeric', maxlength: '6', value: q.get('region') || '' }),
      field('dept', '部门', { options: [['', '全部部门'], ...Object.entries(DEPT)], value: q.get('dept') || '' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, '生成报表')));
  const out = h('div', { class: 'report' });
  const load = async () => {
    const p = new URLSearchParams({ from: form.from.value, to: form.to.value });
    if (form.region.value.trim()) p.set('region', form.region.value.trim());
    if (form.dept.value) p.set('dept', form.dept.value);
    const r = await api('/v1/supervision/report?' + p);
    // The bundles' names for people, from the catalogue in force.
    const bundleNames = await api('/v1/catalogue')
      .then((c) => Object.fromEntries(c.bundles.map((b) => [b.bundle_id, b.name])))
      .catch(() => ({}));
    const depts = r.departments || [];
    const c = r.cases || {};
    const levels = r.ratings && r.ratings.by_level ? r.ratings.by_level : {};
    const fu = r.follow_ups || {};
    out.replaceChildren(
      h('h3', {}, `${fmtDate(r.period.from)} 至 ${fmtDate(r.period.to)}`),
      h('div', { class: 'kpis' },
        kpi('申请总数', String(c.total ?? 0)),
        kpi('已办结', String(c.completed ?? 0)),
        kpi('4 个工作日内办结率', pct(c.on_time_rate_percent)),
        kpi('数据共享获取材料比例', pct(r.materials && r.materials.data_sharing_rate_percent))),
      barChart({
        id: 'chart-ontime', title: '各部门按时办结率', unit: '按时办结率', max: 100,
        rows: depts.map((d) => [d.dept_name || DEPT[d.dept], d.on_time_rate_percent, `${pct(d.on_time_rate_percent)}（${d.on_time}/${d.cases_handled}）`]),
        cls: (v) => (v !== null && v < 90 ? 'bad' : ''),
      }),
      barChart({
        id: 'chart-hours', title: '各部门办理用时（工作小时：中位数）', unit: '中位数 / 最长',
        rows: depts.map((d) => [d.dept_name || DEPT[d.dept], d.median_handling_working_hours, `${hours(d.median_handling_working_hours)} / 最长 ${hours(d.max_handling_working_hours)}`]),
      }),
      barChart({
        id: 'chart-ratings', title: '好差评分布', unit: '件数',
        rows: ['5', '4', '3', '2', '1'].map((l) => [`${l} 星`, levels[l] || 0, `${levels[l] || 0} 件`]),
        cls: (v, i) => (i >= 3 ? 'bad' : ''),
      }),
      barChart({
        id: 'chart-followups', title: '差评与投诉跟进', unit: '件数',
        rows: [['跟进中', fu.open || 0, `${fu.open || 0} 件`], ['已超期', fu.overdue || 0, `${fu.overdue || 0} 件`], ['已办结', fu.closed || 0, `${fu.closed || 0} 件`], ['投诉待答复', (r.complaints || {}).open || 0, `${(r.complaints || {}).open || 0} 件`]],
        cls: (v, i) => (i === 1 ? 'bad' : ''),
      }),
      h('div', { class: 'table-scroll' }, h('table', {},
        h('caption', {}, '各地区办理情况'),
        h('thead', {}, h('tr', {}, ['地区', '办理件数', '按时办结率', '在办任务', '超期在办', '退回', '不予办理'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, (r.regions || []).map((x) => h('tr', {},
          h('td', {}, `${x.region_name || ''}（${x.region}）`), h('td', {}, String(x.cases_handled)), h('td', {}, pct(x.on_time_rate_percent)),
          h('td', {}, String(x.open_tasks)), h('td', {}, String(x.open_overdue_tasks)), h('td', {}, String(x.returned)), h('td', {}, String(x.rejected))))))),
      ...((r.bundles || []).length ? [h('div', { class: 'table-scroll' }, h('table', {},
        h('caption', {}, '各一件事办理情况'),
        h('thead', {}, h('tr', {}, ['一件事', '申请件数', '办结件数', '按时办结率'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, r.bundles.map((b) => h('tr', {},
          h('td', {}, bundleNames[b.bundle] || '其他一件事'), h('td', {}, String(b.total)), h('td', {}, String(b.completed)), h('td', {}, pct(b.on_time_rate_percent)))))))] : []),
      h('p', { class: 'hint' }, `归档完整率 ${pct(r.archive && r.archive.completeness_percent)}；生成于 ${fmtDate(r.generated_at)}。个人信息已脱敏。`));
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); busy(form.querySelector('button'), form, load); });
  show(h('h2', {}, '统计报表'), form, out);
  await busy(form.querySelector('button'), form, load);
}

function escalationRows(items) {
  return items.map((e) => h('tr', {},
    h('td', {}, e.case_id), h('td', {}, STEP[e.step] || e.step), h('td', {}, DEPT[e.dept] || e.dept),
    h('td', {}, e.region), h('td', {}, fmtDate(e.due_at)), h('td', {}, `${e.overdue_working_days} 个工作日`)));
}

async function escalations() {
  const r = await api('/v1/supervision/escalations?limit=20');
  const body = h('tbody', {}, escalationRows(r.items));
  const more = pager(r.next_cursor, async function next(cursor, box) {
    const n = await api('/v1/supervision/escalations?limit=20&cursor=' + encodeURIComponent(cursor));
    body.append(...escalationRows(n.items));
    box.replaceWith(pager(n.next_cursor, next) || '');
  });
  show(h('h2', {}, '督办清单'), h('p', { class: 'hint' }, '超过时限一个工作日以上的环节，按超期时间排列。'),
    r.items.length ? h('div', { class: 'table-scroll' }, h('table', {},
      h('caption', { class: 'visually-hidden' }, '督办清单'),
      h('thead', {}, h('tr', {}, ['申请', '环节', '部门', '地区', '时限', '超期'].map((t) => h('th', { scope: 'col' }, t)))), body)) : h('p', {}, '暂无需要督办的环节。'),
    more);
}

if (s) {
  router([
    [/^#\/(\?.*)?$/, report],
    [/^#\/escalations$/, escalations],
  ]);
}
