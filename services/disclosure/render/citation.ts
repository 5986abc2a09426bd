import type { ParamName, PolicyParams } from '../../../shared/policy/params.js';

/**
 * Which article of a region's own document the page cites, taken from the parameter file's
 * `source` ("art. 24", "art. 21–22", "art. 2, art. 10"), so a new region needs only its file.
 */

const DIGITS = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

/** 1 → 一, 10 → 十, 24 → 二十四, 105 → 一百零五, as article numbers are written (第二十四条). */
export function chineseNumber(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 999) return String(n);
  const hundreds = Math.floor(n / 100);
  const tens = Math.floor((n % 100) / 10);
  const ones = n % 10;
  let text = hundreds > 0 ? `${DIGITS[hundreds]}百` : '';
  if (tens > 0) text += `${hundreds === 0 && tens === 1 ? '' : DIGITS[tens]}十`;
  else if (hundreds > 0 && ones > 0) text += '零';
  if (ones > 0) text += DIGITS[ones];
  return text;
}

const article = (n: string) => `第${chineseNumber(Number(n))}条`;

/** "art. 21–22" → "第二十一条至第二十二条", "art. 2, art. 10" → "第二条、第十条"; null for "illustrative". */
export function articleZh(source: string): string | null {
  const parts = source.split(',').map((part) => /^\s*art\. (\d+)(?:–(\d+))?\s*$/.exec(part));
  if (parts.length === 0 || parts.some((match) => match === null)) return null;
  return parts
    .map((match) => {
      const [, from, to] = match as RegExpExecArray;
      return to === undefined ? article(from as string) : `${article(from as string)}至${article(to)}`;
    })
    .join('、');
}

const documentName = (params: PolicyParams) =>
  `《${params.region.document.title}》（${params.region.document.number}）`;

export interface DisclosureBasis {
  /** The document requires the fund's accounts to be disclosed (publicDisclosure = true). */
  readonly required: boolean;
  /** The articles cited, in Chinese, or null when the file cites none. */
  readonly articles: string | null;
  /** One sentence for the page, plain text. */
  readonly text: string;
}

/** Why the hub publishes this region's figures: the article requiring it, or that it publishes voluntarily. */
export function disclosureBasis(params: PolicyParams): DisclosureBasis {
  const articles = articleZh(params.provenance.publicDisclosure.source);
  const name = documentName(params);
  if (params.publicDisclosure) {
    return {
      required: true,
      articles,
      text: `依据${name}${articles ?? ''}关于基金收支运行情况信息公开的规定，公开以下汇总数据。`,
    };
  }
  const check = articles === null ? '' : `，供公众对照该办法${articles}监督基金的管理和使用`;
  return {
    required: false,
    articles,
    text: `${name}未规定公开基金收支情况。本平台自愿公开以下汇总数据${check}。`,
  };
}

/** Where a parameter's value comes from, for the page: "第二十一条", or "示例参数" when the document gives none. */
export function sourceZh(params: PolicyParams, name: ParamName): string {
  return articleZh(params.provenance[name].source) ?? '示例参数';
}
