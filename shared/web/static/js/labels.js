// Chinese names for the API's machine codes (the codes stay in the data).

export const STATUS = {
  awaiting_confirmation: ['待母亲确认', 'warn'],
  submitted: ['已提交', 'info'],
  incomplete: ['待补充材料', 'warn'],
  not_accepted: ['不予受理', 'bad'],
  in_progress: ['办理中', 'info'],
  returned: ['退回补正', 'warn'],
  rejected: ['不予办理', 'bad'],
  completed: ['已办结', 'ok'],
  withdrawn: ['已撤回', 'bad'],
  voided: ['已作废', 'bad'],
};

export const STEP = {
  acceptance: '受理',
  birth_certificate: '出生医学证明',
  household_registration: '户口登记',
  medical_insurance: '医保参保',
  social_security_card: '社会保障卡',
  unified_issuance: '统一出件',
};

export const STEP_STATUS = {
  pending: ['未开始', 'info'],
  in_progress: ['办理中', 'info'],
  awaiting_review: ['待审核', 'warn'],
  done: ['已完成', 'ok'],
  returned: ['已退回', 'warn'],
  rejected: ['不予办理', 'bad'],
  not_applicable: ['本次不涉及', 'info'],
};

export const DEPT = {
  hospital: '助产机构',
  police: '公安部门',
  medical_insurance: '医保部门',
  hrss: '人力社保部门',
  service_center: '行政服务中心',
  health: '卫生健康部门',
};

export const MATERIAL = {
  mother_id_card: '母亲身份证',
  father_id_card: '父亲身份证',
  household_register: '户口簿',
  marriage_certificate: '结婚证',
  commitment: '书面告知承诺书',
  guardianship_proof: '监护关系证明',
  paternity_proof: '亲子关系证明',
  other: '其他材料',
};

export const CERT = {
  birth_medical_certificate: '出生医学证明',
  vaccination_certificate: '预防接种证',
  household_registration: '户口登记证明',
  medical_insurance_enrolment: '医保参保登记',
  social_security_card: '社会保障卡',
  maternity_benefit_decision: '生育津贴核定',
};

export const CHANNEL = {
  zlb_app: '浙里办',
  zj_web: '浙江政务服务网',
  service_center: '行政服务中心窗口',
  hospital: '医院窗口',
};

export const ROLE = {
  guardian: '家长',
  window_officer: '窗口人员',
  dept_officer: '部门人员',
  supervisor: '监管人员',
};

export const SUPERSEDED = {
  birth_certificate_number: '出生医学证明编号',
  vaccination_certificate_number: '预防接种证编号',
  newborn_id_number: '公民身份号码',
  household_number: '户号',
  social_security_card_serial: '社会保障卡卡号',
};

export const DELIVERY = { mail: '邮寄', pickup: '自取', window: '窗口领取' };

export const CERT_STATUS = { valid: ['有效', 'ok'], superseded: ['已更正替换', 'warn'], revoked: ['已撤销', 'bad'] };

export function badge([text, kind]) {
  const s = document.createElement('span');
  s.className = 'badge ' + kind;
  s.textContent = text;
  return s;
}

export const statusBadge = (s) => badge(STATUS[s] || [s, 'info']);
export const stepStatusBadge = (s) => badge(STEP_STATUS[s] || [s, 'info']);
