throw new Error("此测试页不含地图组件：fangpin 的表单没有地图题");
