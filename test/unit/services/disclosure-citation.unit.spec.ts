import { describe, expect, it } from 'vitest';
import { paramsForPeriod } from '../../../services/disclosure/figures.js';
import { type Period, parsePeriod } from '../../../services/disclosure/periods.js';
import {
  articleZh,
  chineseNumber,
  disclosureBasis,
  sourceZh,
} from '../../../services/disclosure/render/citation.js';

const DEHONG = '533100';
const KAIFENG = '410200';

describe('each region cites its own document', () => {
  it.each([
    [1, '一'],
    [10, '十'],
    [11, '十一'],
    [19, '十九'],
    [20, '二十'],
    [24, '二十四'],
    [100, '一百'],
    [105, '一百零五'],
    [110, '一百一十'],
  ])('%i is written %s', (n, text) => {
    expect(chineseNumber(n)).toBe(text);
  });

  it('reads the parameter files’ sources as articles', () => {
    expect(articleZh('art. 24')).toBe('第二十四条');
    expect(articleZh('art. 21–22')).toBe('第二十一条至第二十二条');
    expect(articleZh('art. 2, art. 10')).toBe('第二条、第十条');
    expect(articleZh('illustrative')).toBeNull();
  });

  it('Dehong publishes under art. 24; Kaifeng, whose document requires no disclosure, voluntarily', () => {
    const dehong = disclosureBasis(paramsForPeriod(DEHONG, parsePeriod('2025') as Period));
    expect(dehong.required).toBe(true);
    expect(dehong.text).toBe(
      '依据《德宏州职工大额医疗费用补助实施办法》（德政办规〔2022〕3号）第二十四条关于基金收支运行情况信息公开的规定，公开以下汇总数据。',
    );
    const kaifeng = disclosureBasis(paramsForPeriod(KAIFENG, parsePeriod('2025') as Period));
    expect(kaifeng.required).toBe(false);
    expect(kaifeng.text).toBe(
      '《开封市职工大额医疗费用补助暂行办法》（汴政办〔2023〕38号）未规定公开基金收支情况。本平台自愿公开以下汇总数据，供公众对照该办法第二十一条至第二十二条监督基金的管理和使用。',
    );
    expect(kaifeng.text).not.toContain('第二十四条');
  });

  it('ceilings cite their article; a value the document does not give says so', () => {
    const dehong = paramsForPeriod(DEHONG, parsePeriod('2025') as Period);
    expect(sourceZh(dehong, 'operatingCostCeiling')).toBe('第二十一条');
    expect(sourceZh(dehong, 'manualClaim')).toBe('第十六条');
    const kaifeng = paramsForPeriod(KAIFENG, parsePeriod('2025') as Period);
    expect(sourceZh(kaifeng, 'profitCeiling')).toBe('第十九条');
    expect(sourceZh(kaifeng, 'manualClaim')).toBe('示例参数');
  });
});
